"""A keystoneauth1 plugin for the services the tests start themselves.

Neither Nova's functional harness nor our glance-api fixture runs
Keystone: each builds the request context from the headers
keystonemiddleware would set (Nova's harness from ``X-Auth-User``,
``X-Auth-Project-Id`` and ``X-Roles``; Glance's ``context`` middleware
from ``X-User-Id``, ``X-Project-Id`` and ``X-Roles``), and then applies
its real default policy to it. :class:`HeaderAuth` sends those headers
for one user, project and set of roles, and answers endpoint lookups
from a small catalog, so an extractor reaches Nova and Glance through one
keystoneauth1 session as it does in production::

    session = header_session({'compute': nova_url, 'image': glance_url},
                             'accounting', project_id, ['reader'])
"""

from keystoneauth1 import access
from keystoneauth1 import fixture
from keystoneauth1 import plugin
from keystoneauth1 import session as ks_session
import requests


class HeaderAuth(plugin.BaseAuthPlugin):
    """One user's identity headers, and a catalog of endpoints.

    :param endpoints: ``{service type: URL}``; a type not listed has no
        endpoint, as in a catalog that lacks the service.
    :param project_id: the project of the token; None for a token scoped
        to the system (``OpenStack-System-Scope: all``).
    :param roles: role names the services see.
    """

    def __init__(self, endpoints, user_id, project_id, roles):
        super().__init__()
        self.endpoints = dict(endpoints)
        self.user_id = user_id
        self.project_id = project_id
        self.roles = list(roles)

    def get_access(self, session, **kwargs):
        """The token Keystone would have issued, for scope decisions."""
        token = fixture.V3Token(user_id=self.user_id,
                                project_id=self.project_id)
        if self.project_id is None:
            token.set_system_scope()
        for role in self.roles:
            token.add_role(name=role)
        return access.create(body=token)

    def get_endpoint(self, session, service_type=None, **kwargs):
        return self.endpoints.get(service_type)

    def get_headers(self, session, **kwargs):
        headers = {'X-Auth-User': self.user_id, 'X-User-Id': self.user_id,
                   'X-Identity-Status': 'Confirmed',
                   'X-Roles': ','.join(self.roles)}
        if self.project_id is None:
            headers['OpenStack-System-Scope'] = 'all'
            # Nova's harness reads a project header whatever the scope.
            headers['X-Auth-Project-Id'] = ''
        else:
            headers.update({'X-Auth-Project-Id': self.project_id,
                            'X-Project-Id': self.project_id})
        return headers

    def get_user_id(self, session, **kwargs):
        return self.user_id

    def get_project_id(self, session, **kwargs):
        return self.project_id


def header_session(endpoints, user_id, project_id, roles, calls=None):
    """Return a keystoneauth1 session authenticated by :class:`HeaderAuth`.

    :param calls: a list each answer is appended to, as ``(method, URL,
        status)``, to tell which calls a run made and what they got.
    """
    http = requests.Session()
    if calls is not None:
        http.hooks['response'].append(
            lambda resp, *args, **kwargs: calls.append(
                (resp.request.method, resp.request.url, resp.status_code)))
    return ks_session.Session(
        auth=HeaderAuth(endpoints, user_id, project_id, roles), session=http)
