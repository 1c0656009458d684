"""Who a Keystone user is, for GlobalUserName: read once per user a run.

The repository groups usage by GlobalUserName; cASO left it empty when it
could not read users. Here a user is read once per run (cached, misses
too) and the configured attribute written, falling back to the user's
name, so it is never empty for a user that exists. A user deleted since
has no name: the record keeps its LocalUserId. A refused read is a clear
error naming the call, not a silent empty field.
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

    def __init__(self, session, attribute='name', region_name=None):
        self.session = session
        self.attribute = attribute or 'name'
        self.endpoint_filter = dict(IDENTITY_FILTER)
        if region_name:
            self.endpoint_filter['region_name'] = region_name
        self._cache = {}
        self.calls = 0

    def _read(self, user_id):
        self.calls += 1
        call = 'GET /v3/users/%s' % user_id
        try:
            response = self.session.get(
                '/users/%s' % user_id, endpoint_filter=self.endpoint_filter)
        except ks_exceptions.NotFound:
            LOG.info('User %s no longer exists in Keystone; its records '
                     'carry its id only.', user_id)
            return None
        except (ks_exceptions.Forbidden, ks_exceptions.Unauthorized):
            raise exceptions.PermissionDenied(
                'Keystone', call,
                'a role that may read users (reader on system scope, or '
                'admin)')
        except ks_exceptions.ClientException as exc:
            raise exceptions.ExtractorError(
                'Keystone failed on %s: %s' % (call, exc))
        user = response.json().get('user') or {}
        return user.get(self.attribute) or user.get('name') or None

    def get(self, user_id):
        """Return the GlobalUserName of ``user_id``, None if unknown."""
        if not user_id:
            return None
        if user_id not in self._cache:
            self._cache[user_id] = self._read(user_id)
        return self._cache[user_id]

    __call__ = get
