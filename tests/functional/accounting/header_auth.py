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

from keystoneauth1 import plugin
from keystoneauth1 import session as ks_session


class HeaderAuth(plugin.BaseAuthPlugin):
    """One user's identity headers, and a catalog of endpoints.

    :param endpoints: ``{service type: URL}``; a type not listed has no
        endpoint, as in a catalog that lacks the service.
    :param roles: role names the services see.
    """

    def __init__(self, endpoints, user_id, project_id, roles):
        super().__init__()
        self.endpoints = dict(endpoints)
        self.user_id = user_id
        self.project_id = project_id
        self.roles = list(roles)

    def get_endpoint(self, session, service_type=None, **kwargs):
        return self.endpoints.get(service_type)

    def get_headers(self, session, **kwargs):
        roles = ','.join(self.roles)
        return {'X-Auth-User': self.user_id, 'X-User-Id': self.user_id,
                'X-Auth-Project-Id': self.project_id,
                'X-Project-Id': self.project_id,
                'X-Identity-Status': 'Confirmed', 'X-Roles': roles}

    def get_user_id(self, session, **kwargs):
        return self.user_id

    def get_project_id(self, session, **kwargs):
        return self.project_id


def header_session(endpoints, user_id, project_id, roles):
    """Return a keystoneauth1 session authenticated by :class:`HeaderAuth`."""
    return ks_session.Session(auth=HeaderAuth(endpoints, user_id, project_id,
                                              roles))
