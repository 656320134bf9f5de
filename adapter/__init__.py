"""The translation proxy between Bandwidth v2 and unchanged legacy apps (Flask)."""
