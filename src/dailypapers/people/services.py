"""Writes: merge author name variants, claim and verify authorship, edit a paper's links,
keep collections. Permission checks live here, so every caller (views, admin, API) gets them."""

import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from dailypapers.papers.models import Author, Organization, PaperAuthor

from .models import AuthorMerge, AuthorshipClaim, Collection, CollectionItem
from .selectors import is_verified_author

MAX_PENDING_CLAIMS = 20
MAX_COLLECTIONS = 100
MAX_COLLECTION_ITEMS = 1000
GITHUB_RE = re.compile(r"^https://github\.com/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/?$")


def can_merge_authors(user):
    return user.is_active and user.has_perm("people.merge_authors")


def can_verify_claims(user):
    return user.is_active and user.has_perm("people.verify_claims")


# Authors ------------------------------------------------------------------------------


def authors_merge(*, moderator, canonical, variants):
    """Merge `variants` into `canonical` (a moderator's decision). Merging into a variant
    merges into its canonical author; the variants' own variants follow. Returns the count."""
    if not can_merge_authors(moderator):
        raise PermissionDenied("Only moderators merge authors.")
    with transaction.atomic():
        target = AuthorMerge.objects.filter(variant=canonical).select_related("canonical").first()
        canonical = target.canonical if target else canonical
        merged = 0
        for variant in variants:
            if variant.pk == canonical.pk:
                continue
            AuthorMerge.objects.filter(canonical=variant).update(canonical=canonical)
            AuthorMerge.objects.update_or_create(
                variant=variant, defaults={"canonical": canonical, "merged_by": moderator}
            )
            merged += 1
    return merged


def author_unmerge(*, moderator, variant):
    if not can_merge_authors(moderator):
        raise PermissionDenied("Only moderators merge authors.")
    return AuthorMerge.objects.filter(variant=variant).delete()[0] > 0


def paper_link_authors(paper):
    """Author rows and their order for a paper that has none yet (ingest writes them for
    every paper it stores; papers written some other way get them here)."""
    if PaperAuthor.objects.filter(paper=paper).exists():
        return
    for position, name in enumerate(paper.author_names):
        author, _ = Author.objects.get_or_create(name=name[:300])
        PaperAuthor.objects.create(paper=paper, author=author, position=position)


# Claims -------------------------------------------------------------------------------


def claim_submit(*, user, paper, position):
    """`user` says they are the author at `position` (0-based) of `paper`."""
    if not user.is_authenticated or not user.is_active:
        raise PermissionDenied("Sign in to claim a paper.")
    paper_link_authors(paper)
    link = PaperAuthor.objects.filter(paper=paper, position=position).select_related("author")
    link = link.first()
    if link is None:
        raise ValidationError("Pick your name among the paper's authors.")
    existing = AuthorshipClaim.objects.filter(user=user, paper=paper).first()
    if existing is not None:
        raise ValidationError(f"You already claimed this paper ({existing.get_status_display()}).")
    pending = AuthorshipClaim.objects.filter(user=user, status=AuthorshipClaim.Status.PENDING)
    if pending.count() >= MAX_PENDING_CLAIMS:
        raise ValidationError(
            f"You have {MAX_PENDING_CLAIMS} claims waiting already; a moderator will get to them."
        )
    try:
        with transaction.atomic():
            return AuthorshipClaim.objects.create(user=user, paper=paper, author=link.author)
    except IntegrityError:  # a second click at the same moment
        raise ValidationError("You already claimed this paper.") from None


def claim_decide(*, moderator, claim, verified):
    """Verify (or reject) a claim. Only one member can be verified for an author slot."""
    if not can_verify_claims(moderator):
        raise PermissionDenied("Only moderators verify authorship.")
    status = AuthorshipClaim.Status.VERIFIED if verified else AuthorshipClaim.Status.REJECTED
    if verified:
        taken = AuthorshipClaim.objects.filter(
            paper=claim.paper_id, author=claim.author_id, status=status
        ).exclude(pk=claim.pk)
        if taken.exists():
            raise ValidationError(
                f"Another member is verified as {claim.author} on this paper already."
            )
    claim.status = status
    claim.decided_by = moderator
    claim.decided_at = timezone.now()
    claim.save(update_fields=["status", "decided_by", "decided_at"])
    return claim


def can_edit_paper_links(user, paper):
    return bool(user.is_authenticated and user.is_active) and (
        user.has_perm("papers.change_paper") or is_verified_author(user, paper)
    )


def paper_links_update(*, user, paper, github_repo, project_page, organization):
    """A verified author (or a moderator) sets the paper's code, project page, organisation.

    `organization`: an organisation's handle or full name; a new one is created when none
    matches; empty to clear."""
    if not can_edit_paper_links(user, paper):
        raise PermissionDenied("Only the paper's verified authors can change its links.")
    errors = {}
    github_repo = (github_repo or "").strip()
    if github_repo and not GITHUB_RE.match(github_repo):
        errors["github_repo"] = "A GitHub repository looks like https://github.com/owner/repo."
    project_page = (project_page or "").strip()
    if project_page:
        try:
            URLValidator(schemes=["http", "https"])(project_page)
        except ValidationError:
            errors["project_page"] = "The project page must be an http(s) address."
    org = None
    organization = " ".join((organization or "").split())
    if organization:
        org = _organization_named(organization)
        if org is None:
            errors["organization"] = "Organisation names need a letter or a digit."
    if errors:
        raise ValidationError(errors)
    paper.github_repo = github_repo.rstrip("/")
    paper.project_page = project_page
    paper.organization = org
    paper.save(update_fields=["github_repo", "project_page", "organization", "modified_at"])
    return paper


def _organization_named(text):
    found = Organization.objects.filter(name__iexact=text).first()
    found = found or Organization.objects.filter(fullname__iexact=text).first()
    if found:
        return found
    handle = slugify(text)[:200]
    if not handle:
        return None
    org, _ = Organization.objects.get_or_create(name=handle, defaults={"fullname": text[:300]})
    return org


# Collections --------------------------------------------------------------------------


def _own(user, collection):
    if not user.is_authenticated or collection.owner_id != user.pk:
        raise PermissionDenied("Only its owner can change a collection.")


def _clean_title(title):
    title = " ".join((title or "").split())
    if not title:
        raise ValidationError({"title": "Give the collection a title."})
    if len(title) > 200:
        raise ValidationError({"title": "Titles are 200 characters at most."})
    return title


def _clean_text(text, field, limit=2000):
    text = (text or "").replace("\r\n", "\n").strip()
    if len(text) > limit:
        raise ValidationError({field: f"At most {limit} characters."})
    if "\x00" in text:
        raise ValidationError({field: "That text contains characters that cannot be stored."})
    return text


def collection_create(*, user, title, description="", is_public=False):
    if not user.is_authenticated:
        raise PermissionDenied("Sign in to make collections.")
    if Collection.objects.filter(owner=user).count() >= MAX_COLLECTIONS:
        raise ValidationError({"title": f"You can keep {MAX_COLLECTIONS} collections at most."})
    return Collection.objects.create(
        owner=user,
        title=_clean_title(title),
        description=_clean_text(description, "description"),
        is_public=bool(is_public),
    )


def collection_update(*, user, collection, title, description, is_public):
    _own(user, collection)
    collection.title = _clean_title(title)
    collection.description = _clean_text(description, "description")
    collection.is_public = bool(is_public)
    collection.save()
    return collection


def collection_delete(*, user, collection):
    _own(user, collection)
    collection.delete()


def collection_add(*, user, collection, paper, note=""):
    """Add `paper` (or update its note when it is there already)."""
    _own(user, collection)
    note = _clean_text(note, "note")
    if collection.items.count() >= MAX_COLLECTION_ITEMS:
        raise ValidationError(
            {"note": f"A collection holds {MAX_COLLECTION_ITEMS} papers at most."}
        )
    item, _ = CollectionItem.objects.update_or_create(
        collection=collection, paper=paper, defaults={"note": note}
    )
    collection.save(update_fields=["updated_at"])
    return item


def collection_remove(*, user, collection, paper):
    _own(user, collection)
    removed = CollectionItem.objects.filter(collection=collection, paper=paper).delete()[0]
    collection.save(update_fields=["updated_at"])
    return bool(removed)
