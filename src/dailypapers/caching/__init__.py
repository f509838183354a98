"""Caching keyed on what a page shows: one site-wide generation, in the database.

Every write that changes what a page or an answer shows (a vote, a daily entry, a paper
saved or bulk-written, a comment, search indexing) moves the generation (`bump`), and
cached pages and API answers key on it (`current`), so nothing stale is served after a
change, on any process or machine. middleware.PageCache serves the public pages
from the cache, before any session is loaded.
"""
