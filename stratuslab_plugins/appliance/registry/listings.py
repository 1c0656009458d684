"""Listings: repositories (OCI catalog or Harbor's project API) and tags.

Every page is read with a cap (:mod:`.bodies`) and checked (a list of
names, each a string); a listing stops with an error past
``MAX_LISTED`` names or ``MAX_PAGES`` pages, so that a registry that
pages forever, or returns endless names, costs bounded time and memory.
"""

import urllib.parse

from stratuslab_plugins.appliance import exceptions
from stratuslab_plugins.appliance import identifiers
from stratuslab_plugins.appliance.registry import bodies

HARBOR_PAGE_SIZE = 100
PAGE_SIZE = 100
#: Names one listing may return (a registry's repositories, one
#: repository's tags); far above what a VO publishes.
MAX_LISTED = 100000
#: Pages one listing may take (a registry may return short pages).
MAX_PAGES = 10000
_NAME_MAX = 1024


class Listings:
    """Listing calls of :class:`RegistryClient` (a mixin over Transport)."""

    def _page(self, url, what, params):
        """One page of a listing: its JSON and the next page's URL."""
        response = self._request('GET', url, what, params=params,
                                 stream=True)
        next_url = response.links.get('next', {}).get('url')
        document = bodies.read_json(response, bodies.LISTING_MAX_BYTES,
                                    'a page to %s' % what,
                                    'Registry %s' % self.url)
        return document, self._absolute(next_url) if next_url else None

    def _names(self, items, what, listed):
        """Check a page's names; count them against ``MAX_LISTED``."""
        if not isinstance(items, list):
            raise exceptions.RegistryError(
                'Registry %s answered a request to %s with %s, not a list '
                'of names.' % (self.url, what, type(items).__name__))
        if listed + len(items) > MAX_LISTED:
            raise exceptions.RegistryError(
                'Registry %s answered a request to %s with more than %d '
                'names; refused.' % (self.url, what, MAX_LISTED))
        for name in items:
            if not isinstance(name, str) or not name or \
                    len(name) > _NAME_MAX:
                raise exceptions.RegistryError(
                    'Registry %s answered a request to %s with a name that '
                    'is not a string of at most %d characters.'
                    % (self.url, what, _NAME_MAX))
        return items

    def _paginate(self, url, key, what):
        names = []
        params = {'n': PAGE_SIZE}
        for _ in range(MAX_PAGES):
            document, url = self._page(url, what, params)
            if not isinstance(document, dict):
                raise exceptions.RegistryError(
                    'Registry %s answered a request to %s with %s, not an '
                    'object.' % (self.url, what, type(document).__name__))
            items = document.get(key)
            names.extend(self._names([] if items is None else items, what,
                                     len(names)))
            if not url:
                return names
            params = None
        raise exceptions.RegistryError(
            'Registry %s answered a request to %s with more than %d pages; '
            'refused.' % (self.url, what, MAX_PAGES))

    def list_repositories(self):
        """Return every repository name the account may see."""
        return self._paginate(self.url + '/v2/_catalog', 'repositories',
                              'list repositories')

    def list_project_repositories(self, project):
        """Return the repositories under ``project/``, sorted.

        The OCI catalog (``/v2/_catalog``) first. Harbor, EGI's registry,
        answers it only to its administrators: when it refuses this
        account (401/403), Harbor's project API is asked instead
        (``/api/v2.0/projects/PROJECT/repositories``), which members and
        robot accounts of the project may read. A registry with neither
        gives the catalog's refusal.
        """
        identifiers.check_repository(project)
        prefix = project + '/'
        try:
            names = self.list_repositories()
        except exceptions.RegistryAuthError as refused:
            try:
                names = list(self._harbor_repositories(project))
            except exceptions.RegistryNotFound:
                raise refused from None
        return sorted(name for name in names if name.startswith(prefix))

    def _harbor_repositories(self, project):
        """Names of a Harbor project's repositories, page by page."""
        url = '%s/api/v2.0/projects/%s/repositories' % (
            self.url, urllib.parse.quote(project, safe=''))
        what = 'list the repositories of project %s' % project
        names = []
        for page in range(1, MAX_PAGES + 1):
            items, _ = self._page(url, what, {'page': page,
                                              'page_size': HARBOR_PAGE_SIZE})
            if not isinstance(items, list):
                raise exceptions.RegistryError(
                    'Registry %s answered a request to %s with %s, not '
                    'a list of repositories.' % (self.url, what,
                                                 type(items).__name__))
            names.extend(self._names(
                [item['name'] for item in items
                 if isinstance(item, dict) and item.get('name')],
                what, len(names)))
            if len(items) < HARBOR_PAGE_SIZE:
                return names
        raise exceptions.RegistryError(
            'Registry %s answered a request to %s with more than %d pages; '
            'refused.' % (self.url, what, MAX_PAGES))

    def list_tags(self, repository):
        """Return the tags of ``repository``."""
        return self._paginate(self._url(repository, 'tags', 'list'),
                              'tags', 'list the tags of %s' % repository)
