"""Listings: repositories (OCI catalog or Harbor's project API) and tags.
"""

import urllib.parse

from stratuslab_plugins.appliance import exceptions
from stratuslab_plugins.appliance import identifiers

HARBOR_PAGE_SIZE = 100


class Listings:
    """Listing calls of :class:`RegistryClient` (a mixin over Transport)."""

    def _paginate(self, url, key, what):
        params = {'n': 100}
        while url:
            response = self._request('GET', url, what, params=params)
            for item in response.json().get(key) or []:
                yield item
            url = response.links.get('next', {}).get('url')
            url, params = (self._absolute(url), None) if url else (None,
                                                                   None)

    def list_repositories(self):
        """Return every repository name the account may see."""
        return list(self._paginate(self.url + '/v2/_catalog',
                                   'repositories', 'list repositories'))

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
        page = 1
        while True:
            items = self._request('GET', url, what, params={
                'page': page, 'page_size': HARBOR_PAGE_SIZE}).json()
            if not isinstance(items, list):
                raise exceptions.RegistryError(
                    'Registry %s answered a request to %s with %s, not '
                    'a list of repositories.' % (self.url, what,
                                                 type(items).__name__))
            for item in items:
                if isinstance(item, dict) and item.get('name'):
                    yield item['name']
            if len(items) < HARBOR_PAGE_SIZE:
                return
            page += 1

    def list_tags(self, repository):
        """Return the tags of ``repository``."""
        return list(self._paginate(self._url(repository, 'tags', 'list'),
                                   'tags', 'list the tags of %s'
                                   % repository))
