"""Author and organisation pages, claims, a paper's links, BibTeX, collections. Thin:
parse, call selectors and services, render."""

from types import SimpleNamespace

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.text import slugify
from django.views.decorators.http import require_POST

from dailypapers.digests.selectors import follows_for_user
from dailypapers.web.rows import rows_html
from dailypapers.web.views import PER_PAGE, page_number, paper_or_404, safe_next

from . import selectors, services
from .bibtex import paper_bibtex, papers_bibtex
from .forms import CollectionForm, PaperLinksForm
from .models import Collection


def _page(request, papers, author_ids=()):
    """One page of papers as listing rows, rendered once and cached per paper state
    (web/rows.py, as the daily page does), and whether there is a next one. An author
    page's rows show that author even in a cut byline (`author_ids`)."""
    offset = (page_number(request) - 1) * PER_PAGE
    stamps = [
        (*stamp, None)
        for stamp in papers.values_list("pk", "upvotes", "num_comments", "modified_at")[
            offset : offset + PER_PAGE + 1
        ]
    ]

    def fetch(paper_ids):
        found = papers.filter(pk__in=paper_ids).select_related("organization", "thumb")
        return {paper.pk: SimpleNamespace(paper=paper, paper_id=paper.pk) for paper in found}

    shown = [stamp[0] for stamp in stamps[:PER_PAGE]]
    sought = selectors.byline_positions(shown, author_ids) if author_ids else {}
    return {
        "rows": rows_html(request, stamps[:PER_PAGE], fetch, sought=sought),
        "has_papers": bool(stamps),
        "has_more": len(stamps) > PER_PAGE,
        "offset": offset,
        "page": page_number(request),
    }


def _following(request, kind, value):
    return any(f.kind == kind and f.value == value for f in follows_for_user(request.user))


def author_page(request, slug):
    author, canonical_slug = selectors.author_from_slug(slug)
    if slug != canonical_slug:  # a merged variant, or the name part changed
        return redirect(f"/authors/{canonical_slug}")
    ids = selectors.author_ids_of(author)
    papers = selectors.papers_by_authors(ids)
    co_authors, more_co_authors = selectors.co_authors(ids)
    context = {
        **_page(request, papers, author_ids=ids),
        "author": author,
        "variants": [v.variant for v in author.variants.select_related("variant")],
        "totals": selectors.upvotes_of(papers),
        "co_authors": co_authors,
        "more_co_authors": more_co_authors,
        "members": selectors.verified_members(author_ids=ids),
        "following": _following(request, "author", author.name),
    }
    return render(request, "people/author.html", context)


def organization_page(request, name):
    organization = selectors.organization_or_404(name)
    papers = selectors.papers_of_organization(organization)
    context = {
        **_page(request, papers),
        "organization": organization,
        "totals": selectors.upvotes_of(papers),
        "members": selectors.verified_members(papers=papers),
        "following": _following(request, "org", organization.name),
    }
    return render(request, "people/organization.html", context)


def _bibtex_response(text, filename):
    response = HttpResponse(text, content_type="application/x-bibtex; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{filename}.bib"'
    return response


def paper_bib(request, raw):
    paper = paper_or_404(raw)
    if paper.hidden:
        raise Http404("This paper is hidden.")
    return _bibtex_response(paper_bibtex(paper), paper.arxiv_id.replace("/", "_"))


def paper_authors(request, raw):
    """The whole byline of a paper, for the collaborations the paper page cuts."""
    paper = paper_or_404(raw)
    if paper.hidden:
        raise Http404("This paper is hidden.")
    context = {
        "paper": paper,
        "author_rows": selectors.author_rows(paper),
        "my_claim": selectors.claim_of(request.user, paper),
    }
    return render(request, "people/paper_authors.html", context)


@require_POST
def claim(request, raw):
    paper = paper_or_404(raw)
    if not request.user.is_authenticated:
        return redirect_to_login(paper.get_absolute_url())
    try:
        position = int(request.POST.get("position", ""))
        services.claim_submit(user=request.user, paper=paper, position=position)
    except ValueError:
        messages.error(request, "Pick your name among the paper's authors.")
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.success(request, "Thanks: a moderator will check your claim.")
    return redirect(f"{paper.get_absolute_url()}#authorship")


def paper_links(request, raw):
    paper = paper_or_404(raw)
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not services.can_edit_paper_links(request.user, paper):
        raise PermissionDenied("Only the paper's verified authors can change its links.")
    status = 200
    if request.method == "POST":
        form = PaperLinksForm(request.POST)
        if form.is_valid():
            try:
                services.paper_links_update(user=request.user, paper=paper, **form.cleaned_data)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field, errors)
            else:
                messages.success(request, "Saved the paper's links.")
                return redirect(paper.get_absolute_url())
        status = 400
    else:
        form = PaperLinksForm(
            initial={
                "github_repo": paper.github_repo,
                "project_page": paper.project_page,
                "organization": paper.organization.name if paper.organization else "",
            }
        )
    return render(request, "people/paper_links.html", {"paper": paper, "form": form}, status=status)


# Collections --------------------------------------------------------------------------


@login_required
def collections(request):
    """The member's collections, and the form for a new one."""
    status = 200
    form = CollectionForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                made = services.collection_create(user=request.user, **form.cleaned_data)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                return redirect(made.get_absolute_url())
        status = 400
    context = {
        "collections": selectors.collections_visible_to(request.user, request.user),
        "form": form,
    }
    return render(request, "people/collections.html", context, status=status)


def collection(request, pk):
    found = selectors.collection_for(request.user, pk)
    items = selectors.collection_items(found)
    selectors.attach_author_links([item.paper for item in items])
    is_owner = request.user == found.owner
    context = {
        "collection": found,
        "items": items,
        "is_owner": is_owner,
        "form": CollectionForm(
            initial={
                "title": found.title,
                "description": found.description,
                "is_public": found.is_public,
            }
        )
        if is_owner
        else None,
    }
    return render(request, "people/collection.html", context)


def collection_bib(request, pk):
    found = selectors.collection_for(request.user, pk)
    papers = [item.paper for item in selectors.collection_items(found)]
    return _bibtex_response(papers_bibtex(papers), slugify(found.title) or f"collection-{pk}")


def _owned(request, pk):
    found = Collection.objects.filter(pk=pk, owner=request.user).first()
    if found is None:
        raise Http404("No such collection of yours.")
    return found


@require_POST
@login_required
def collection_edit(request, pk):
    found = _owned(request, pk)
    form = CollectionForm(request.POST)
    if form.is_valid():
        try:
            services.collection_update(user=request.user, collection=found, **form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, "Saved.")
    else:
        messages.error(request, "Give the collection a title of at most 200 characters.")
    return redirect(found.get_absolute_url())


@require_POST
@login_required
def collection_delete(request, pk):
    found = _owned(request, pk)
    services.collection_delete(user=request.user, collection=found)
    messages.success(request, f"Deleted the collection “{found.title[:80]}”.")
    return redirect("collections")


@require_POST
@login_required
def collection_add(request):
    """Add the paper `paper` to collection `collection` (or to a new one titled `title`)."""
    paper = paper_or_404(request.POST.get("paper", ""))
    back = safe_next(request, paper.get_absolute_url())
    try:
        if request.POST.get("collection"):
            target = _owned(request, _int(request.POST["collection"]))
        else:
            target = services.collection_create(
                user=request.user, title=request.POST.get("title", "")
            )
        services.collection_add(
            user=request.user, collection=target, paper=paper, note=request.POST.get("note", "")
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Added to “{target.title[:80]}”.")
    return redirect(back)


@require_POST
@login_required
def collection_remove(request, pk):
    found = _owned(request, pk)
    paper = paper_or_404(request.POST.get("paper", ""))
    services.collection_remove(user=request.user, collection=found, paper=paper)
    messages.success(request, f"Removed “{paper.plain_title[:80]}”.")
    return redirect(found.get_absolute_url())


def _int(text):
    try:
        return int(text)
    except ValueError:
        raise Http404("No such collection.") from None
