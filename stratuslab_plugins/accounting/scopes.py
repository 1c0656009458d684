"""Where the extractors read: every project at once, or project by project.

Nova 34's default policies, like Cinder's, Neutron's and Glance's, give
a listing across projects (``all_tenants``) to the ``admin`` role alone,
and accept no system-scoped token at all (their rules are
``scope_types=['project']``). An accounting user holding only ``reader``
therefore reads each project with a token scoped to it, as cASO does,
while an admin reads everything in one paged listing. Both work:

* ``[accounting] listing_scope = all_projects``: one all-projects listing
  a service, with the run's own session;
* ``each_project``: the projects the accounting user holds a role on
  (``GET /v3/auth/projects``), each read with its own project-scoped
  session;
* ``auto`` (default): ``all_projects`` when the run's token is scoped to a
  project and carries ``admin``, else ``each_project``. A session that
  has no Keystone token (``auth_type = none`` behind a proxy that
  authenticates) reads all projects.

A project-scoped session is made from the ``[accounting_keystone]``
credentials with their scope replaced by the project (a system-scoped
token cannot be rescoped: Keystone forbids it), or, for a session that
was not loaded from those options (the ``openstack`` CLI's), by
rescoping its token. Sessions are made once a run, when first needed.

Example::

    reach = ProjectSessions(conf, session)
    if not reach.reads_all_projects():
        for project_id in reach.readable():
            nova_session = reach.session_for(project_id)
"""

import dataclasses
import logging
import typing

from keystoneauth1 import exceptions as ks_exceptions
from keystoneauth1.identity import v3
from keystoneauth1 import loading as ks_loading
from keystoneauth1 import session as ks_session

from stratuslab_plugins.accounting import exceptions
from stratuslab_plugins.accounting import identity
from stratuslab_plugins.conf import accounting as accounting_conf

LOG = logging.getLogger(__name__)

#: ``[accounting] listing_scope`` values.
AUTO = 'auto'
ALL_PROJECTS = 'all_projects'
EACH_PROJECT = 'each_project'

#: Auth options that set a token's scope; a project scope replaces them.
_SCOPE_OPTIONS = ('project_id', 'project_name', 'project_domain_id',
                  'project_domain_name', 'domain_id', 'domain_name',
                  'system_scope', 'trust_id')


@dataclasses.dataclass(frozen=True)
class Scope:
    """What one listing covers, and the session it is read with.

    :param project_id: the project read; None with ``all_projects`` for
        every project.
    :param all_projects: True for an admin's cross-project listing
        (``all_tenants``, with ``project_id`` as a filter), False for a
        session scoped to ``project_id``, which sees that project alone.
    """

    session: typing.Any
    project_id: typing.Optional[str] = None
    all_projects: bool = True

    def filters(self, all_tenants=True):
        """Return the query parameters of a listing in this scope.

        :param all_tenants: whether the service wants ``all_tenants=1``
            before it lists other projects (Nova, Cinder), or lists an
            admin everything anyway (Neutron).
        """
        if not self.all_projects:
            return {}
        query = {'all_tenants': 1} if all_tenants else {}
        if self.project_id:
            query['project_id'] = self.project_id
        return query


class ProjectSessions:
    """The projects the accounting user may read, and a session for each.

    :param conf: the run's options (``[accounting_keystone]`` registered).
    :param session: the run's keystoneauth1 session.
    """

    def __init__(self, conf, session, region_name=None):
        self.conf = conf
        self.session = session
        self.region_name = region_name
        self._projects = None
        self._sessions = {}

    # -- which way ------------------------------------------------------

    def reads_all_projects(self):
        """Whether this run reads every project in one listing."""
        mode = self.conf.accounting.listing_scope
        if mode != AUTO:
            return mode == ALL_PROJECTS
        get_access = getattr(self.session.auth, 'get_access', None)
        if get_access is None:
            return True
        try:
            access = get_access(self.session)
        except ks_exceptions.ClientException as exc:
            raise exceptions.ExtractorError(
                'cannot authenticate the accounting user with Keystone: '
                '%s' % exc)
        return bool(access.project_scoped and 'admin' in access.role_names)

    # -- which projects -------------------------------------------------

    def projects(self):
        """Return the ids of the enabled projects the user has a role on.

        ``GET /v3/auth/projects``: any token may ask it of Keystone.
        """
        if self._projects is None:
            endpoint_filter = dict(identity.IDENTITY_FILTER)
            if self.region_name:
                endpoint_filter['region_name'] = self.region_name
            try:
                body = self.session.get(
                    '/auth/projects', endpoint_filter=endpoint_filter).json()
            except ks_exceptions.ClientException as exc:
                raise exceptions.ExtractorError(
                    'Keystone failed on GET /v3/auth/projects (the projects '
                    'the accounting user may read): %s' % exc)
            self._projects = sorted(
                p['id'] for p in body.get('projects') or ()
                if isinstance(p, dict) and p.get('id')
                and p.get('enabled', True))
        return list(self._projects)

    def readable(self, wanted=None):
        """Return the projects to read, in order.

        :param wanted: project ids asked for, or None for every project
            the user may read.
        :raises exceptions.PermissionDenied: when a wanted project is not
            readable, or the user may read no project at all.
        """
        projects = self.projects()
        if wanted:
            missing = [p for p in wanted if p not in projects]
            if missing:
                raise exceptions.PermissionDenied(
                    'Keystone', 'a token scoped to project %s'
                    % ', '.join(missing), 'a role (reader) on it')
            return list(wanted)
        if not projects:
            raise exceptions.PermissionDenied(
                'Keystone', 'a token scoped to any project',
                'the reader role on each project to account (or admin on '
                'one, to read all projects at once)')
        return projects

    # -- sessions -------------------------------------------------------

    def session_for(self, project_id):
        """Return a keystoneauth1 session scoped to ``project_id``."""
        if project_id not in self._sessions:
            self._sessions[project_id] = self.make_session(project_id)
        return self._sessions[project_id]

    def make_session(self, project_id):
        """Make a session scoped to ``project_id`` (once a run)."""
        group = accounting_conf.KEYSTONE_GROUP
        if getattr(self.conf, group).auth_type:
            auth = self._configured_auth(group, project_id)
            return ks_loading.load_session_from_conf_options(
                self.conf, group, auth=auth)
        return ks_session.Session(
            auth=self._rescoped_auth(project_id), verify=self.session.verify,
            cert=self.session.cert, timeout=self.session.timeout)

    def _configured_auth(self, group, project_id):
        auth_type = getattr(self.conf, group).auth_type
        names = {o.dest for o in
                 ks_loading.get_plugin_loader(auth_type).get_options()}
        if 'project_id' not in names:
            raise exceptions.ConfigurationError(
                '[%s] auth_type = %s cannot be scoped to a project: reading '
                'project by project needs a credential Keystone scopes per '
                'request, such as password (or set [accounting] '
                'listing_scope = all_projects).' % (group, auth_type))
        overrides = {name: None for name in _SCOPE_OPTIONS if name in names}
        overrides['project_id'] = project_id
        return ks_loading.load_auth_from_conf_options(self.conf, group,
                                                      **overrides)

    def _rescoped_auth(self, project_id):
        auth = self.session.auth
        try:
            auth_url = getattr(auth, 'auth_url', None) or \
                self.session.get_endpoint(service_type='identity',
                                          interface='public')
            token = self.session.get_token()
        except ks_exceptions.ClientException as exc:
            raise exceptions.ExtractorError(
                'cannot get a token to rescope to project %s: %s'
                % (project_id, exc))
        return v3.Token(auth_url, token, project_id=project_id)
