"""OpenAPI schemas of the API's answers (the Hugging Face papers API's field names).

Endpoints build their JSON in hf_format (so the feeds and the mirror share it) and return
it with cache validators; these schemas document it, and the schemathesis test checks
that every answer matches them. Upstream objects grow new fields over time, so the
models allow extra keys.
"""

import datetime as dt

from ninja import Schema
from pydantic import ConfigDict, Field


class Open(Schema):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class ErrorOut(Schema):
    error: str = Field(description="What went wrong, for people.")
    field: str | None = Field(None, description="The offending parameter or body field.")


class UserOut(Open):
    id: str | None = Field(None, alias="_id")
    avatarUrl: str | None = None
    fullname: str | None = None
    name: str | None = None
    user: str | None = None
    type: str | None = None
    isPro: bool | None = None


class AuthorOut(Open):
    id: str = Field(alias="_id")
    name: str
    hidden: bool
    status: str | None = None
    statusLastChangedAt: str | None = None
    user: UserOut | None = None


class OrganizationOut(Open):
    id: str | None = Field(None, alias="_id")
    name: str
    fullname: str | None = None
    avatar: str | None = None


class PaperOut(Open):
    id: str = Field(description="arXiv id (base, no version)")
    authors: list[AuthorOut]
    publishedAt: dt.datetime = Field(description="first arXiv version")
    title: str
    summary: str = Field(description="the abstract")
    upvotes: int
    discussionId: str
    submittedOnDailyAt: dt.datetime | None = None
    submittedOnDailyBy: UserOut | None = None
    ai_summary: str | None = None
    ai_keywords: list[str] | None = None
    githubRepo: str | None = None
    githubStars: int | None = None
    projectPage: str | None = None
    organization: OrganizationOut | None = None
    withdrawnAt: dt.datetime | None = None
    mediaUrls: list[str] | None = None


class PaperInfoOut(PaperOut):
    numComments: int = Field(description="comments in its discussion here, as its page shows")


class DailyEntryOut(Open):
    paper: PaperOut
    publishedAt: dt.datetime = Field(description="when it was put on a daily page")
    title: str
    summary: str | None = None
    thumbnail: str | None = None
    numComments: int = Field(description="comments in the paper's discussion here")
    submittedBy: UserOut | None = None
    isAuthorParticipating: bool | None = None
    mediaUrls: list[str] | None = None
    organization: OrganizationOut | None = None


class TrendingOut(DailyEntryOut):
    trendingScore: float = Field(description="see /about: log10(upvotes) + featured days")


class RecommendationOut(PaperOut):
    reason: str = Field(description="why it was picked for you")


class CategoryOut(Schema):
    id: str
    papers: int


class SubmitIn(Schema):
    id: str = Field(description="an arXiv id or arxiv.org link", max_length=300)


class SubmitQueuedOut(Schema):
    id: str = Field(description="the paper's base arXiv id")
    status: str = Field(description='"queued": arXiv did not answer in time')
    message: str = Field(description="What happens next, for people.")


class VoteOut(Schema):
    id: str
    upvotes: int
    upvoted: bool = Field(description="whether the token's member now upvotes it")
    changed: bool
