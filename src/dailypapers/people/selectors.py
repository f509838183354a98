"""Reads for author and organisation pages, badges and collections."""

import re
import unicodedata
from collections import defaultdict

from django.db.models import Case, Count, FloatField, Q, Sum, Value, When
from django.db.models.functions import Coalesce
from django.http import Http404

from dailypapers.folding import fold_accents
from dailypapers.papers.models import Author, Organization, Paper, PaperAuthor

from .models import AuthorMerge, AuthorshipClaim, Collection, author_slug

CO_AUTHORS = 24
NAME_PARTS = re.compile(r"[^\W_]+")


def canonical_author(author):
    """The author whose page shows `author`'s papers (itself unless merged)."""
    merge = AuthorMerge.objects.filter(variant=author).select_related("canonical").first()
    return merge.canonical if merge else author


def author_ids_of(author):
    """The ids whose papers make up `author`'s page: itself and its merged variants."""
    return [
        author.pk,
        *AuthorMerge.objects.filter(canonical=author).values_list("variant_id", flat=True),
    ]


def same_author_names(name):
    """`name` and every spelling a moderator merged with it (for follows by name)."""
    author = Author.objects.filter(name=name).first()
    if author is None:
        return [name]
    canonical = canonical_author(author)
    variants = Author.objects.filter(merged_into__canonical=canonical).values_list(
        "name", flat=True
    )
    return list(dict.fromkeys([name, canonical.name, *variants]))


def author_page_of(name):
    """The address of the page of the author called `name` (merged spellings lead to the
    canonical page), or None when no paper names them."""
    author = Author.objects.filter(name=name).first()
    if author is None:
        return None
    canonical = canonical_author(author)
    return f"/authors/{author_slug(canonical.pk, canonical.name)}"


def author_from_slug(slug):
    """(author, canonical slug) for "123-ada-lovelace"; Http404 for anything else."""
    head = slug.split("-", 1)[0]
    author = (
        Author.objects.filter(pk=int(head)).first() if head.isdigit() and len(head) < 12 else None
    )
    if author is None:
        raise Http404("We know no author at this address.")
    canonical = canonical_author(author)
    return canonical, author_slug(canonical.pk, canonical.name)


def papers_by_authors(author_ids):
    """Visible papers with any of `author_ids` among their authors, newest first."""
    return (
        Paper.objects.visible()
        .filter(pk__in=PaperAuthor.objects.filter(author_id__in=author_ids).values("paper_id"))
        .select_related("organization")
        .order_by("-published_at", "-pk")
    )


def upvotes_of(papers):
    return papers.order_by().aggregate(total=Sum("upvotes"), count=Count("pk"))


def co_authors(author_ids, *, limit=CO_AUTHORS):
    """([(Author, papers together)], how many more co-authors): the closest first, merged
    variants counted as their canonical author.

    Closeness is the collaboration weight (Newman's): each paper shared adds 1/(its
    authors - 1), 1/2 for a paper of 3 authors, 1/356 for a report of 357, so the people
    an author writes with come before the crowd of one big collaboration. Ties go to more
    papers together, then the name. The database ranks and cuts (a prolific author has
    thousands of co-authors): one query for the size of each of the author's papers, one
    for the ranking, one for the authors, one for the count."""
    papers = PaperAuthor.objects.filter(author_id__in=author_ids, paper__hidden=False)
    sizes = (
        PaperAuthor.objects.filter(paper_id__in=papers.values("paper_id"))
        .values_list("paper_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    by_share = defaultdict(list)  # {a shared paper's weight: its paper ids}
    for paper_id, size in sizes:
        by_share[1 / max(size - 1, 1)].append(paper_id)
    if not by_share:
        return [], 0
    weight = Case(
        *(When(paper_id__in=ids, then=Value(share)) for share, ids in by_share.items()),
        default=Value(0.0),
        output_field=FloatField(),
    )
    rows = (
        PaperAuthor.objects.filter(paper_id__in=[i for ids in by_share.values() for i in ids])
        .exclude(author_id__in=author_ids)
        .annotate(who=Coalesce("author__merged_into__canonical_id", "author_id"))
        .values("who")
    )
    ranked = rows.annotate(
        weight=Sum(weight),
        together=Count("paper_id", distinct=True),
        name=Coalesce("author__merged_into__canonical__name", "author__name"),
    ).order_by("-weight", "-together", "name", "who")[:limit]
    top = [(row["who"], row["together"]) for row in ranked]
    authors = Author.objects.in_bulk([author_id for author_id, _ in top])
    shown = [(authors[author_id], together) for author_id, together in top if author_id in authors]
    more = rows.distinct().count() - len(shown) if len(top) == limit else 0
    return shown, more


def verified_members(*, author_ids=None, papers=None):
    """Members with a verified claim on one of `author_ids`, or on one of `papers`."""
    claims = AuthorshipClaim.objects.filter(status=AuthorshipClaim.Status.VERIFIED)
    if author_ids is not None:
        claims = claims.filter(author_id__in=author_ids)
    if papers is not None:
        claims = claims.filter(paper__in=papers)
    users = {}
    for claim in claims.select_related("user").order_by("created_at"):
        if claim.user.is_active:
            users.setdefault(claim.user.pk, claim.user)
    return list(users.values())


def organization_or_404(name):
    organization = Organization.objects.filter(name=name).first()
    if organization is None:
        raise Http404("We know no organisation at this address.")
    return organization


def papers_of_organization(organization):
    return (
        Paper.objects.visible()
        .filter(organization=organization)
        .select_related("organization")
        .order_by("-published_at", "-pk")
    )


def attach_author_links(papers):
    """Give each paper `author_links`: [(name, author page address or "")] in paper order,
    merged variants pointing at their canonical author. One query for any number of papers."""
    papers = [paper for paper in papers if paper is not None]
    if not papers:
        return papers
    rows = PaperAuthor.objects.filter(paper_id__in=[paper.pk for paper in papers]).values_list(
        "paper_id",
        "position",
        "author_id",
        "author__merged_into__canonical_id",
        "author__merged_into__canonical__name",
    )
    by_paper = {}
    for paper_id, position, author_id, canonical_id, canonical_name in rows:
        by_paper.setdefault(paper_id, {})[position] = (author_id, canonical_id, canonical_name)
    for paper in papers:
        slots = by_paper.get(paper.pk, {})
        links = []
        for position, author in enumerate(paper.authors or ()):
            name = author.get("name", "") if isinstance(author, dict) else str(author)
            author_id, canonical_id, canonical_name = slots.get(position, (None, None, None))
            url = ""
            if canonical_id:
                url = f"/authors/{author_slug(canonical_id, canonical_name)}"
            elif author_id:
                url = f"/authors/{author_slug(author_id, name)}"
            links.append((name, url))
        paper.author_links = links
        paper.author_ids = {position: slot[0] for position, slot in slots.items()}
    return papers


def verified_user_ids(paper):
    """Ids of the members verified as authors of `paper` (memoised on the instance)."""
    cached = getattr(paper, "_verified_user_ids", None)
    if cached is None:
        cached = set(
            AuthorshipClaim.objects.filter(
                paper=paper, status=AuthorshipClaim.Status.VERIFIED
            ).values_list("user_id", flat=True)
        )
        paper._verified_user_ids = cached
    return cached


def is_verified_author(user, paper):
    return bool(user and user.is_authenticated and user.pk in verified_user_ids(paper))


def verified_by_position(paper):
    """{author position: member} for the verified claims on `paper` (after
    attach_author_links); also memoises verified_user_ids(paper)."""
    claims = AuthorshipClaim.objects.filter(paper=paper, status=AuthorshipClaim.Status.VERIFIED)
    claims = list(claims.select_related("user"))
    paper._verified_user_ids = {claim.user_id for claim in claims}
    positions = {author_id: position for position, author_id in paper.author_ids.items()}
    return {
        positions[claim.author_id]: claim.user
        for claim in claims
        if claim.author_id in positions and claim.user.is_active
    }


def authors_verified_as(member):
    """The authors (canonical) a moderator verified `member` as, for their profile."""
    claims = AuthorshipClaim.objects.filter(user=member, status=AuthorshipClaim.Status.VERIFIED)
    authors = {}
    for claim in claims.select_related("author").order_by("created_at"):
        author = canonical_author(claim.author)
        authors.setdefault(author.pk, author)
    return list(authors.values())


def claim_of(user, paper):
    if not user.is_authenticated:
        return None
    return AuthorshipClaim.objects.filter(user=user, paper=paper).first()


def collections_visible_to(user, owner):
    """`owner`'s collections that `user` may see: all of them for the owner, public ones else."""
    collections = Collection.objects.filter(owner=owner).annotate(size=Count("items"))
    if user != owner:
        collections = collections.filter(is_public=True)
    return collections.order_by("-updated_at")


def collection_for(user, pk):
    """The collection `pk` if `user` may read it (private ones: only their owner), else 404."""
    visible = Q(is_public=True)
    if user.is_authenticated:
        visible |= Q(owner=user)
    collection = Collection.objects.filter(visible, pk=pk).select_related("owner").first()
    if collection is None:
        raise Http404("No such collection, or it is private.")
    return collection


def collection_items(collection):
    return list(
        collection.items.filter(paper__hidden=False)
        .select_related("paper__organization")
        .order_by("added_at", "pk")
    )


def own_collections(user):
    if not user.is_authenticated:
        return []
    return list(Collection.objects.filter(owner=user).order_by("-updated_at")[:100])


# A byline longer than BYLINE_WHOLE names is cut after BYLINE_SHOWN on the paper page: a
# collaboration's thousands of names would push the abstract screens down and weigh 60 B
# each. The whole byline has its own page (/papers/<id>/authors).
BYLINE_WHOLE = 30
BYLINE_SHOWN = 20


def author_rows(paper):
    """[{name, url, member}] of the byline: each author's page and verified member."""
    attach_author_links([paper])
    members = verified_by_position(paper)
    return [
        {"name": name, "url": url, "member": members.get(position)}
        for position, (name, url) in enumerate(paper.author_links)
    ]


def paper_people_context(user, paper):
    """What the paper page shows of the people app: linked authors with their verified
    members' badges (a long byline cut, its verified authors kept), the reader's claim,
    whether they may edit the links, their collections."""
    from .services import can_edit_paper_links

    rows = author_rows(paper)
    shown = rows
    if len(rows) > BYLINE_WHOLE:
        shown = rows[:BYLINE_SHOWN] + [row for row in rows[BYLINE_SHOWN:] if row["member"]]
    return {
        "author_rows": shown,
        "authors_hidden": len(rows) - len(shown),
        "my_claim": claim_of(user, paper),
        "can_edit_links": can_edit_paper_links(user, paper),
        "my_collections": own_collections(user),
    }


def byline_positions(paper_ids, author_ids):
    """{paper id: the places in its byline of the authors `author_ids`}: one query."""
    found = {}
    rows = PaperAuthor.objects.filter(paper_id__in=paper_ids, author_id__in=author_ids)
    for paper_id, position in rows.values_list("paper_id", "position"):
        found.setdefault(paper_id, set()).add(position)
    return found


def author_positions(paper, names):
    """The places in `paper`'s byline of the authors called one of `names`: an author whose
    name holds every word of one, in any order or case, accents aside ("wei liu" names
    Wei Liu and Liu Wei, "liu" every Liu)."""
    wanted = [parts for parts in map(_name_parts, names) if parts]
    if not wanted:
        return set()
    positions = set()
    for position, author in enumerate(paper.authors or ()):
        held = _name_parts(author.get("name", "") if isinstance(author, dict) else str(author))
        if any(parts <= held for parts in wanted):
            positions.add(position)
    return positions


def _name_parts(name):
    # NFKC first: compatibility forms (full-width letters) are their plain letters.
    plain = fold_accents(unicodedata.normalize("NFKC", name)).casefold()
    return set(NAME_PARTS.findall(plain))
