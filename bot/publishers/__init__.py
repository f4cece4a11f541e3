"""Publishers: one small interface (base.py), one implementation per platform."""
