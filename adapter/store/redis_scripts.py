"""Lua scripts of ``RedisStore``: every check-and-set runs as one script, atomically.

Key layout (``P`` = key prefix, ``C`` = call id; ``base`` = ``P call:C``)::

    P call:C                  hash   call record: "." + field -> JSON value, plus the marker field ""
    P call:C:gather:G         hash   state, record (JSON), result (JSON), token, completion_token
    P call:C:open-gather      string id of the call's open gather
    P call:C:cont:K           string continuation document
    P call:C:outbox           list   outbox item ids, oldest first (only the head is claimable)
    P call:C:outbox:I         hash   payload, attempts, enqueued_at, not_before, lease_until, lease_token
    P call:C:keys             set    every key above that the call has (so end_call can expire them)
    P call:C:ended            string present once the call ended; its TTL is the call's deadline
    P outbox:due              zset   call id -> when its head item becomes claimable (ms)
    P marker:K                string idempotency / replay marker

Times are Redis server time in milliseconds (``TIME``), so instances with skewed clocks agree
on leases.  Keys are derived inside the scripts, so this needs a standalone Redis (or a
primary with replicas), not Redis Cluster.  Operations that a client may retry after a lost
reply carry a client-made token (create, complete, enqueue, claim) so the retry is harmless.
"""

from __future__ import annotations

PRELUDE = r"""
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Give `key` (a record of the call `base`) the call's expiry and list it in the call's index:
-- the call's end deadline when it ended, else `idle_ms` from now.
local function touch(base, key, idle_ms)
  local ttl = redis.call('PTTL', base .. ':ended')
  if ttl <= 0 then ttl = idle_ms end
  redis.call('PEXPIRE', key, ttl)
  local index = base .. ':keys'
  redis.call('SADD', index, key)
  if redis.call('PTTL', index) < ttl then redis.call('PEXPIRE', index, ttl) end
end

-- Score of a call in the due set: when its head item becomes claimable; nil when it has none.
local function head_due(list)
  while true do
    local head = redis.call('LINDEX', list, 0)
    if not head then return nil, nil end
    local times = redis.call('HMGET', list .. ':' .. head, 'not_before', 'lease_until')
    if times[1] then
      return head, math.max(tonumber(times[1]), tonumber(times[2]))
    end
    redis.call('LPOP', list)  -- the item expired before the list: drop the dangling id
  end
end

local function reschedule(list, due, call_id)
  local head, at = head_due(list)
  if head then redis.call('ZADD', due, at, call_id) else redis.call('ZREM', due, call_id) end
end

-- Remove an acked item; returns how many ids were removed from the list (0: already gone).
local function ack(base, due, call_id, item_id)
  local list = base .. ':outbox'
  local key = list .. ':' .. item_id
  local removed = redis.call('LREM', list, 1, item_id)
  redis.call('DEL', key)
  redis.call('SREM', base .. ':keys', key)
  reschedule(list, due, call_id)
  return removed
end

-- Lease the call's head item when it is due (or held but named in ARGV[first_released..],
-- never attempted and not leased); {} when there is none.
local function claim(base, due, call_id, lease_ms, token, first_released)
  local list = base .. ':outbox'
  local head, at = head_due(list)
  if not head then
    redis.call('ZREM', due, call_id)
    return {}
  end
  local key = list .. ':' .. head
  local item = redis.call('HMGET', key, 'payload', 'attempts', 'enqueued_at', 'lease_until', 'lease_token')
  if item[5] == token then  -- our own claim, retried after a lost reply
    return {head, item[1], item[2], item[3], item[4]}
  end
  local now = now_ms()
  if at > now then
    local released = false
    if tonumber(item[2]) == 0 and tonumber(item[4]) <= now then
      for i = first_released, #ARGV do
        if ARGV[i] == head then released = true break end
      end
    end
    if not released then
      redis.call('ZADD', due, at, call_id)
      return {}
    end
  end
  local lease_until = now + tonumber(lease_ms)
  redis.call('HSET', key, 'lease_until', lease_until, 'lease_token', token)
  redis.call('ZADD', due, lease_until, call_id)
  return {head, item[1], item[2], item[3], tostring(lease_until)}
end
"""

# KEYS: base.  ARGV: idle_ms, field1, json1, field2, json2, ...
PUT_CALL = r"""
local base = KEYS[1]
redis.call('DEL', base)
redis.call('HSET', base, '', '1', unpack(ARGV, 2))
touch(base, base, tonumber(ARGV[1]))
return 1
"""

# KEYS: base.  ARGV: idle_ms, n_expect, (field, json) * n_expect, (field, json) * n_changes
# Returns {'missing'} | {'conflict', field...} | {'ok', field, value, ...}
UPDATE_CALL = r"""
local base = KEYS[1]
if redis.call('EXISTS', base) == 0 then return {'missing'} end
local n_expect = tonumber(ARGV[2])
local stale = {}
for i = 0, n_expect - 1 do
  local field, wanted = ARGV[3 + 2 * i], ARGV[4 + 2 * i]
  local current = redis.call('HGET', base, field)
  if not current then current = 'null' end
  if current ~= wanted then stale[#stale + 1] = field end
end
if #stale > 0 then return {'conflict', unpack(stale)} end
local first_change = 3 + 2 * n_expect
if #ARGV >= first_change then
  redis.call('HSET', base, unpack(ARGV, first_change))
end
touch(base, base, tonumber(ARGV[1]))
local out = redis.call('HGETALL', base)
table.insert(out, 1, 'ok')
return out
"""

# KEYS: base.  ARGV: ttl_ms
END_CALL = r"""
local base = KEYS[1]
local ttl = tonumber(ARGV[1])
local index = base .. ':keys'
if ttl <= 0 then  -- forget the call now
  for _, key in ipairs(redis.call('SMEMBERS', index)) do
    redis.call('DEL', key)
  end
  redis.call('DEL', index, base .. ':ended')
  return 1
end
redis.call('SET', base .. ':ended', '1', 'PX', ttl)
for _, key in ipairs(redis.call('SMEMBERS', index)) do
  redis.call('PEXPIRE', key, ttl)
end
redis.call('PEXPIRE', index, ttl)
return 1
"""

# KEYS: base.  ARGV: idle_ms, gather_id, record_json, token
# Returns {'ok'} | {'open', gather_id} | {'taken', gather_id}
CREATE_GATHER = r"""
local base, gather_id, token = KEYS[1], ARGV[2], ARGV[4]
local open_key = base .. ':open-gather'
local open = redis.call('GET', open_key)
if open and redis.call('HGET', base .. ':gather:' .. open, 'state') == 'created' then
  if open == gather_id and redis.call('HGET', base .. ':gather:' .. open, 'token') == token then
    return {'ok'}  -- our own create, retried after a lost reply
  end
  return {'open', open}
end
local key = base .. ':gather:' .. gather_id
if redis.call('EXISTS', key) == 1 then return {'taken', gather_id} end
redis.call('HSET', key, 'state', 'created', 'record', ARGV[3], 'token', token)
redis.call('SET', open_key, gather_id)
local idle = tonumber(ARGV[1])
touch(base, key, idle)
touch(base, open_key, idle)
return {'ok'}
"""

# KEYS: base.  ARGV: idle_ms, gather_id, result_json, token
# Returns {} (no such gather) | {'first' | 'again', record_json, result_json}
COMPLETE_GATHER = r"""
local base, gather_id, token = KEYS[1], ARGV[2], ARGV[4]
local key = base .. ':gather:' .. gather_id
local stored = redis.call('HMGET', key, 'state', 'record', 'result', 'completion_token')
if not stored[1] then return {} end
if stored[1] == 'completed' then
  local verdict = 'again'
  if stored[4] == token then verdict = 'first' end  -- our own completion, retried
  return {verdict, stored[2], stored[3]}
end
redis.call('HSET', key, 'state', 'completed', 'result', ARGV[3], 'completion_token', token)
local open_key = base .. ':open-gather'
if redis.call('GET', open_key) == gather_id then redis.call('DEL', open_key) end
touch(base, key, tonumber(ARGV[1]))
return {'first', stored[2], ARGV[3]}
"""

# KEYS: base.  ARGV: idle_ms, continuation_key, document
PUT_CONTINUATION = r"""
local key = KEYS[1] .. ':cont:' .. ARGV[2]
redis.call('SET', key, ARGV[3])
touch(KEYS[1], key, tonumber(ARGV[1]))
return 1
"""

# KEYS: base, due.  ARGV: idle_ms, call_id, item_id, payload_json, hold_ms
ENQUEUE = r"""
local base, due, call_id, item_id = KEYS[1], KEYS[2], ARGV[2], ARGV[3]
local list = base .. ':outbox'
local key = list .. ':' .. item_id
if redis.call('EXISTS', key) == 1 then return 0 end  -- retried after a lost reply
local now = now_ms()
redis.call('HSET', key, 'payload', ARGV[4], 'attempts', 0, 'enqueued_at', now,
           'not_before', now + tonumber(ARGV[5] or 0), 'lease_until', 0, 'held', tonumber(ARGV[5] or 0) > 0 and 1 or 0)
redis.call('RPUSH', list, item_id)
local idle = tonumber(ARGV[1])
touch(base, key, idle)
touch(base, list, idle)
if redis.call('ZSCORE', due, call_id) == false then reschedule(list, due, call_id) end
return 1
"""

# KEYS: base, due.  ARGV: call_id.  Held items of the call (never attempted) become due now.
RELEASE = r"""
local base, due, call_id = KEYS[1], KEYS[2], ARGV[1]
local list = base .. ':outbox'
local now = now_ms()
local released = 0
for _, item_id in ipairs(redis.call('LRANGE', list, 0, -1)) do
  local key = list .. ':' .. item_id
  local fields = redis.call('HMGET', key, 'held', 'not_before')
  if fields[1] == '1' and tonumber(fields[2]) > now then
    redis.call('HSET', key, 'not_before', now, 'held', 0)
    released = released + 1
  end
end
reschedule(list, due, call_id)
return released
"""

# KEYS: base, due.  ARGV: call_id, lease_ms, token, released item ids...
# Returns {} | {item_id, payload_json, attempts, enqueued_at_ms, lease_until_ms}
CLAIM = r"""
return claim(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3], 4)
"""

# KEYS: base, due.  ARGV: call_id, item_id
ACK = r"""
return ack(KEYS[1], KEYS[2], ARGV[1], ARGV[2])
"""

# The outbox's step after a delivery, in one round trip: ack the item, claim the next.
# KEYS: base, due.  ARGV: call_id, item_id, lease_ms, token, released item ids...
# Returns what CLAIM returns.
ACK_CLAIM = r"""
ack(KEYS[1], KEYS[2], ARGV[1], ARGV[2])
return claim(KEYS[1], KEYS[2], ARGV[1], ARGV[3], ARGV[4], 5)
"""

# KEYS: base, due.  ARGV: call_id, item_id, token, retry_ms
NACK = r"""
local base, due, call_id, item_id = KEYS[1], KEYS[2], ARGV[1], ARGV[2]
local list = base .. ':outbox'
local key = list .. ':' .. item_id
if redis.call('HGET', key, 'lease_token') ~= ARGV[3] then return 0 end
redis.call('HSET', key, 'not_before', now_ms() + tonumber(ARGV[4]), 'lease_until', 0, 'lease_token', '',
           'held', 0)
redis.call('HINCRBY', key, 'attempts', 1)
reschedule(list, due, call_id)
return 1
"""

# KEYS: due.  ARGV: call key prefix ("P call:"), limit
DUE_CALLS = r"""
local due, calls = KEYS[1], ARGV[1]
local out = {}
for _, call_id in ipairs(redis.call('ZRANGEBYSCORE', due, '-inf', now_ms(), 'LIMIT', 0, tonumber(ARGV[2]))) do
  local list = calls .. call_id .. ':outbox'
  local head, at = head_due(list)
  if not head then
    redis.call('ZREM', due, call_id)
  elseif at <= now_ms() then
    out[#out + 1] = call_id
  else
    redis.call('ZADD', due, at, call_id)
  end
end
return out
"""

# KEYS: due.  ARGV: call key prefix
OUTBOX_DEPTH = r"""
local due, calls = KEYS[1], ARGV[1]
local depth = 0
for _, call_id in ipairs(redis.call('ZRANGE', due, 0, -1)) do
  local length = redis.call('LLEN', calls .. call_id .. ':outbox')
  if length == 0 then redis.call('ZREM', due, call_id) end
  depth = depth + length
end
return depth
"""

SCRIPTS: dict[str, str] = {
    "put_call": PUT_CALL,
    "update_call": UPDATE_CALL,
    "end_call": END_CALL,
    "create_gather": CREATE_GATHER,
    "complete_gather": COMPLETE_GATHER,
    "put_continuation": PUT_CONTINUATION,
    "enqueue": ENQUEUE,
    "release": RELEASE,
    "claim": CLAIM,
    "ack": ACK,
    "ack_claim": ACK_CLAIM,
    "nack": NACK,
    "due_calls": DUE_CALLS,
    "outbox_depth": OUTBOX_DEPTH,
}
