"""Counts in sentences: "1 comment", "2 comments"."""


def counted(count, singular, plural=None):
    return f"{count} {singular if count == 1 else plural or singular + 's'}"
