"""Who a Keystone user is, for GlobalUserName: read once a run.

The repository groups usage by GlobalUserName; cASO left it empty when it
could not read users, and read them project by project. Here the first
lookup of a run lists the users once (``GET /v3/users``, one call however
many users own servers); a user missing from that listing (Keystone
truncated it at ``list_limit``, or the user belongs to a domain the
listing did not cover) is read on its own (``GET /v3/users/{id}``), and
every answer, misses too, is cached for the run. The configured attribute
is written, falling back to the user's name, so GlobalUserName is never
empty for a user that exists. A user deleted since has no name: the
record keeps its LocalUserId. A refused read is a clear error naming the
call, not a silent empty field.
"""

import logging

from keystoneauth1 import exceptions as ks_exceptions

from stratuslab_plugins.accounting import exceptions

LOG = logging.getLogger(__name__)

IDENTITY_FILTER = {'service_type': 'identity', 'interface': 'public',
                   'version': (3, 0)}


class UserNames:
    """A per-run cache of ``user id -> GlobalUserName``.

    :param session: keystoneauth1 session allowed to read users
        (``identity:get_user``: ``reader`` on the system scope, or admin).
    :param attribute: user attribute to report (default ``name``).
    """

    def __init__(self, session, attribute='name', region_name=None,
                 prefetch=True):
        self.session = session
        self._prefetch = prefetch
        self.attribute = attribute or 'name'
        self.endpoint_filter = dict(IDENTITY_FILTER)
        if region_name:
            self.endpoint_filter['region_name'] = region_name
        self._cache = {}
        self.calls = 0

    def _get(self, path):
        self.calls += 1
        call = 'GET /v3%s' % path
        try:
            return self.session.get(
                path, endpoint_filter=self.endpoint_filter).json()
        except (ks_exceptions.Forbidden, ks_exceptions.Unauthorized):
            raise exceptions.PermissionDenied(
                'Keystone', call,
                'a role that may read users (reader on system scope, or '
                'admin)')
        except ks_exceptions.NotFound:
            raise
        except ks_exceptions.ClientException as exc:
            raise exceptions.ExtractorError(
                'Keystone failed on %s: %s' % (call, exc))

    def _name(self, user):
        return user.get(self.attribute) or user.get('name') or None

    def _list_all(self):
        body = self._get('/users')
        for user in body.get('users') or ():
            self._cache[user['id']] = self._name(user)

    def _read(self, user_id):
        try:
            body = self._get('/users/%s' % user_id)
        except ks_exceptions.NotFound:
            LOG.info('User %s no longer exists in Keystone; its records '
                     'carry its id only.', user_id)
            return None
        return self._name(body.get('user') or {})

    def get(self, user_id):
        """Return the GlobalUserName of ``user_id``, None if unknown."""
        if not user_id:
            return None
        if self._prefetch:
            self._prefetch = False
            self._list_all()
        if user_id not in self._cache:
            self._cache[user_id] = self._read(user_id)
        return self._cache[user_id]

    __call__ = get
