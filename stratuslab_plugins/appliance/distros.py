"""Operating-system names: as AppDB writes them, as Glance and Nova read them.

A HEPiX entry names the system twice: ``sl:os`` is the family
(``"Linux"``) and ``sl:osname`` the distribution, in the spelling of
the person who registered the image in AppDB (``"Ubuntu"``,
``"CentOS"``, ``"AlmaLinux"``, ``"Rocky Linux"``). Glance's ``os_distro``
property wants one lower-case name from the vocabulary Glance documents
(``useful-image-properties``: ``ubuntu``, ``centos``, ``rocky``,
``rhel``...), the libosinfo vocabulary Nova's libvirt driver uses for
guest defaults. :func:`os_distro` maps the first to the second;
:func:`appdb_name` and :func:`family` give back AppDB's spelling, so
that the lists we write read as AppDB's do.

Example::

    >>> os_distro('Rocky Linux'), os_distro('AlmaLinux')
    ('rocky', 'almalinux')
    >>> appdb_name('centos'), family('centos')
    ('CentOS', 'Linux')
"""

import re

# (os_distro, the spelling we write, other spellings read). Only names the
# general rule of os_distro() would get wrong need a row; the first
# spelling of each row is what AppDB shows.
_TABLE = (
    ('ubuntu', 'Ubuntu', ()),
    ('centos', 'CentOS', ('CentOS Stream',)),
    ('almalinux', 'AlmaLinux', ('Alma Linux',)),
    ('rocky', 'Rocky Linux', ('Rocky',)),
    ('debian', 'Debian', ('Debian GNU/Linux',)),
    ('fedora', 'Fedora', ()),
    ('rhel', 'Red Hat Enterprise Linux', ('RHEL', 'RedHat', 'Red Hat')),
    ('opensuse', 'openSUSE', ('openSUSE Leap', 'openSUSE Tumbleweed')),
    ('sles', 'SUSE Linux Enterprise Server', ('SLES',)),
    ('arch', 'Arch Linux', ()),
    ('scientificlinux', 'Scientific Linux', ()),
    ('windows', 'Windows', ('Microsoft Windows', 'Windows Server')),
    ('freebsd', 'FreeBSD', ()),
    ('openbsd', 'OpenBSD', ()),
    ('netbsd', 'NetBSD', ()),
)
_NON_ALNUM = re.compile(r'[^a-z0-9]+')


def _key(name):
    return _NON_ALNUM.sub('', name.lower())


_BY_SPELLING = {_key(spelling): distro
                for distro, written, others in _TABLE
                for spelling in (distro, written) + others}
_WRITTEN = {distro: written for distro, written, _ in _TABLE}
_FAMILIES = {'windows': 'Windows', 'freebsd': 'BSD', 'openbsd': 'BSD',
             'netbsd': 'BSD'}
#: What ``sl:os`` says when it names a family rather than a distribution.
FAMILY_NAMES = frozenset(['linux', 'windows', 'bsd', 'unix', 'other',
                          'macos', 'solaris'])


def os_distro(name):
    """Return Glance's ``os_distro`` for a distribution name, or None.

    Known spellings map to Glance's names; any other name is lower-cased
    and kept to its letters and digits (``"Oracle Linux"`` gives
    ``oraclelinux``, libosinfo's name for it), as atrope lower-cases it.

    :param name: the distribution as a list writes it (``sl:osname``).
    """
    key = _key(name or '')
    if not key:
        return None
    return _BY_SPELLING.get(key, key)


def is_family(name):
    """True if ``name`` (an ``sl:os``) names a family, not a distribution."""
    return _key(name or '') in FAMILY_NAMES


def appdb_name(distro):
    """Return the ``sl:osname`` AppDB writes for an ``os_distro``."""
    return _WRITTEN.get(distro, distro)


def family(distro):
    """Return the ``sl:os`` family of an ``os_distro`` (Linux by default).

    Grid appliances are Linux but for a few named exceptions; None when
    the distribution is unknown.
    """
    if not distro:
        return None
    return _FAMILIES.get(distro, 'Linux')
