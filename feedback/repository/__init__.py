"""Every query lives in this package: one module per aggregate, plain functions taking a Session.

Rows go in and out as ORM objects or small dataclasses; callers never write SQL.
"""
