"""The project-to-VO map: which Virtual Organisation a project works for.

Nova and the usage data know projects; a grid site reasons in VOs (atlas,
cms, biomed...). The map comes from two sources:

* a Keystone project property (``[grid] vo_project_property``, default
  ``egi.VO``), set by the site with
  ``openstack project set --property egi.VO=atlas PROJECT``;
* an optional mapping file (``[grid] vo_mapping_file``), JSON or YAML of
  the form ``{VO: [project id or name, ...]}``, whose entries win.

The scheduler asks for a project's VO once per request and the accounting
once per record, so a lookup must never wait for Keystone:
:class:`RefreshingVOMap` refreshes in a background thread and keeps the
last good map when Keystone cannot be reached. Example::

    from stratuslab_plugins.grid import vo_map
    vos = vo_map.get_vo_map(CONF)        # started once per process
    vos.vo_for_project(project_id)       # -> 'atlas' or None

Tests and tools build a fixed map from plain data instead::

    vo_map.VOMap({'1d2c...': 'atlas'})
"""

import logging
import threading

from keystoneauth1 import adapter as ks_adapter
from keystoneauth1 import loading as ks_loading
from stratuslab_plugins.conf import grid as grid_conf
from stratuslab_plugins.conf import keystone as keystone_conf
from stratuslab_plugins.grid import exceptions
from stratuslab_plugins.grid import structured

LOG = logging.getLogger(__name__)

# Identity API endpoint used when fetch_from_keystone() gets a bare session.
DEFAULT_ENDPOINT_FILTER = {
    'service_type': 'identity',
    'interface': 'public',
    'version': (3, 0),
}


class VOMap(object):
    """An immutable snapshot of the project-to-VO map.

    :param mapping: ``{project_id: vo}``. A project belongs to one VO;
        projects absent from it have none.
    """

    def __init__(self, mapping=None):
        self._vo_by_project = {str(p): str(vo)
                               for p, vo in (mapping or {}).items() if vo}
        projects_by_vo = {}
        for project, vo in self._vo_by_project.items():
            projects_by_vo.setdefault(vo, set()).add(project)
        self._projects_by_vo = {vo: frozenset(projects)
                                for vo, projects in projects_by_vo.items()}

    def vo_for_project(self, project_id):
        """Return the VO of ``project_id``, or None when it has none."""
        return self._vo_by_project.get(project_id)

    def projects_for_vo(self, vo):
        """Return the set of project ids that work for ``vo`` (maybe empty)."""
        return set(self._projects_by_vo.get(vo, ()))

    def as_dict(self):
        """Return a copy of the map as ``{project_id: vo}``."""
        return dict(self._vo_by_project)

    def __len__(self):
        return len(self._vo_by_project)

    def __eq__(self, other):
        return (isinstance(other, VOMap)
                and self._vo_by_project == other._vo_by_project)

    def __repr__(self):
        return 'VOMap(%r)' % self._vo_by_project


def load_mapping_file(path):
    """Read a ``{vo: [project id or name, ...]}`` file.

    JSON is a subset of YAML, so one parser reads both (JSON first, for
    speed; YAML within the bounds of ``grid.structured``).

    :param path: the file named by ``[grid] vo_mapping_file``.
    :returns: ``{project id or name: vo}``.
    :raises VOMappingFileError: the file cannot be read, or its content is
        not a mapping of VO names to lists of strings, or a project is
        given two VOs. The message names the file and the entry.
    """
    try:
        with open(path, encoding='utf-8') as stream:
            text = stream.read()
    except OSError as exc:
        raise exceptions.VOMappingFileError(
            path, 'cannot be read (%s)' % exc.strerror)
    except UnicodeDecodeError:
        raise exceptions.VOMappingFileError(path, 'is not UTF-8 text')
    try:
        content = structured.load_json_or_yaml(path, text)
    except exceptions.SourceFileError as exc:
        raise exceptions.VOMappingFileError(path, exc.problem)
    if content is None:
        return {}
    if not isinstance(content, dict):
        raise exceptions.VOMappingFileError(
            path, 'must map VO names to lists of projects, not hold a %s'
            % type(content).__name__)
    mapping = {}
    for vo, projects in content.items():
        if isinstance(projects, str):
            projects = [projects]
        if not isinstance(projects, list) or not all(
                isinstance(p, (str, int)) for p in projects):
            raise exceptions.VOMappingFileError(
                path, 'VO %r must list project ids or names as strings'
                % vo)
        for project in map(str, projects):
            if mapping.get(project, vo) != vo:
                raise exceptions.VOMappingFileError(
                    path, 'project %r is listed under two VOs, %r and %r'
                    % (project, mapping[project], vo))
            mapping[project] = str(vo)
    return mapping


def _list_projects(session):
    """Yield every project the identity API lists, following pagination."""
    if isinstance(session, ks_adapter.Adapter):
        kwargs = {}
    else:
        kwargs = {'endpoint_filter': DEFAULT_ENDPOINT_FILTER}
    url = '/projects'
    while url:
        body = session.get(url, **kwargs).json()
        yield from body.get('projects', ())
        url = (body.get('links') or {}).get('next')


def fetch_from_keystone(session, property_name, file_mapping=None):
    """Build ``{project_id: vo}`` from Keystone project properties.

    Keystone returns a project's custom properties as top-level attributes
    of the project, so ``openstack project set --property egi.VO=atlas``
    shows up as ``project['egi.VO']``.

    :param session: a keystoneauth1 Session (the public identity v3
        endpoint is used) or Adapter (its endpoint settings are used),
        allowed to list projects (an admin or reader role).
    :param property_name: the project property naming the VO.
    :param file_mapping: ``{project id or name: vo}`` from
        :func:`load_mapping_file`; its entries win. Names are resolved to
        ids through the listed projects; unknown keys are kept as they are
        (they may be ids of projects the session cannot see).
    :returns: ``{project_id: vo}``.
    :raises keystoneauth1.exceptions.ClientException: Keystone failed.
    """
    mapping = {}
    id_by_name = {}
    for project in _list_projects(session):
        id_by_name.setdefault(project.get('name'), project['id'])
        vo = project.get(property_name)
        if vo:
            mapping[project['id']] = str(vo)
    for key, vo in (file_mapping or {}).items():
        mapping[id_by_name.get(key, key)] = vo
    return mapping


class RefreshingVOMap(object):
    """A :class:`VOMap` kept fresh by a background thread.

    Lookups read the latest snapshot and never block on Keystone. When a
    refresh fails the last good snapshot stays in force, and one warning is
    logged until a refresh succeeds again (a scheduler that logged at every
    interval would bury the first message).

    :param loader: a callable returning ``{project_id: vo}``; it may raise.
    :param interval: seconds between two refreshes.
    :param initial: the map in force before the first refresh completes.
    """

    def __init__(self, loader, interval, initial=None):
        self._loader = loader
        self._interval = interval
        self._current = initial if initial is not None else VOMap()
        self._failing = False
        self._stop = threading.Event()
        self._thread = None

    @property
    def current(self):
        """The :class:`VOMap` in force."""
        return self._current

    def vo_for_project(self, project_id):
        return self._current.vo_for_project(project_id)

    def projects_for_vo(self, vo):
        return self._current.projects_for_vo(vo)

    def as_dict(self):
        return self._current.as_dict()

    def refresh(self):
        """Load the map once; return True when it succeeded."""
        try:
            new = VOMap(self._loader())
        # Whatever went wrong (Keystone down, a bad answer, a bad file),
        # the background thread must survive and the last map stay.
        except Exception as exc:
            if not self._failing:
                LOG.warning('Cannot refresh the project-to-VO map (%s); '
                            'keeping the last good map of %d projects '
                            'until a refresh succeeds.', exc,
                            len(self._current))
            self._failing = True
            return False
        if self._failing:
            LOG.info('Project-to-VO map refreshed again (%d projects).',
                     len(new))
        self._failing = False
        self._current = new
        return True

    def start(self):
        """Start refreshing in a daemon thread, now and every interval."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._run, name='grid-vo-map', daemon=True)
            self._thread.start()
        return self

    def stop(self):
        """Stop the background thread and wait for it."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self):
        while not self._stop.is_set():
            self.refresh()
            self._stop.wait(self._interval)


def _file_loader(path):
    return load_mapping_file(path) if path else {}


def _keystone_adapter(conf):
    """Return an identity Adapter from ``[grid_keystone]``, or None."""
    group = grid_conf.KEYSTONE_GROUP
    session, auth = keystone_conf.load_session(conf, group)
    if session is None:
        return None
    return ks_loading.load_adapter_from_conf_options(
        conf, group, session=session, auth=auth)


def make_loader(conf):
    """Return a callable building ``{project_id: vo}`` from ``conf``.

    With no ``[grid_keystone] auth_type`` the mapping file is the only
    source; otherwise Keystone's properties and the file are merged.
    """
    grid_conf.register_opts(conf)
    path = conf.grid.vo_mapping_file
    keystone = _keystone_adapter(conf)
    if keystone is None:
        return lambda: _file_loader(path)
    prop = conf.grid.vo_project_property
    return lambda: fetch_from_keystone(keystone, prop, _file_loader(path))


_SHARED = {}
_SHARED_LOCK = threading.Lock()


def get_vo_map(conf):
    """Return this process's :class:`RefreshingVOMap`, started once.

    Every filter and the accounting of one process share it, so Keystone
    is asked once per interval whatever the number of readers. The
    mapping file is read at once (a local read, so the first requests
    already see it); Keystone is asked from the background thread.
    """
    with _SHARED_LOCK:
        vos = _SHARED.get(id(conf))
        if vos is None:
            loader = make_loader(conf)
            path = conf.grid.vo_mapping_file
            try:
                initial = VOMap(_file_loader(path))
            except exceptions.VOMappingFileError as exc:
                LOG.warning('%s; starting with an empty VO map.', exc)
                initial = VOMap()
            vos = RefreshingVOMap(loader, conf.grid.vo_map_refresh_interval,
                                  initial=initial).start()
            _SHARED[id(conf)] = vos
        return vos


def reset_shared():
    """Stop and forget the shared maps (for tests)."""
    with _SHARED_LOCK:
        for vos in _SHARED.values():
            vos.stop()
        _SHARED.clear()
