"""``openstack appliance`` commands: publish, endorse and verify appliances.

::

    openstack appliance create disk.qcow2 \\
        --reference vo.example.org/ubuntu:22.04 --title "Ubuntu 22.04" \\
        --distro ubuntu --distro-version 22.04 --vo vo.example.org
    openstack appliance list [--repository vo.example.org/ubuntu]
    openstack appliance show vo.example.org/ubuntu:22.04
    openstack appliance save vo.example.org/ubuntu:22.04 --file copy.qcow2
    openstack appliance endorse --certificate me.pem --key me.key \\
        --output site.list vo.example.org/ubuntu:22.04 [...]
    openstack appliance verify --ca-path /etc/grid-security/certificates \\
        [--policy policy.yaml] [--check-content] site.list
    openstack appliance deprecate vo.example.org/ubuntu:22.04 \\
        --reason "CVE-..."
    openstack appliance delete vo.example.org/ubuntu:22.04

None of them needs Keystone (``auth_required = False``): they talk to the
registry given by ``--os-appliance-registry`` (see ``plugin``). Every
failure of the appliance pillar becomes a ``CommandError`` carrying its
message, so the user reads what failed and what to do, and the command
exits non-zero. ``verify`` exits 1 when anything is untrusted, after
printing every verdict.
"""

import datetime
import os
import sys
import tempfile

from osc_lib.cli import format_columns
from osc_lib.cli import parseractions
from osc_lib.command import command
from osc_lib import exceptions as osc_exceptions
import requests
import tqdm

from stratuslab_plugins.appliance import adoption
from stratuslab_plugins.appliance import exceptions
from stratuslab_plugins.appliance import image_list
from stratuslab_plugins.appliance import model
from stratuslab_plugins.appliance import registry
from stratuslab_plugins.appliance import repository
from stratuslab_plugins.appliance import trust

_FIELDS = (
    ('identifier', lambda a: a.identifier),
    ('title', lambda a: a.title),
    ('description', lambda a: a.description),
    ('version', lambda a: a.version),
    ('disk_format', lambda a: a.disk_format),
    ('container_format', lambda a: a.container_format),
    ('size', lambda a: a.size),
    ('sha512', lambda a: a.sha512),
    ('sha256', lambda a: a.sha256),
    ('stratuslab_id', lambda a: a.stratuslab_id),
    ('os', lambda a: a.os),
    ('os_version', lambda a: a.os_version),
    ('architecture', lambda a: a.arch),
    ('min_ram_mb', lambda a: a.ram_minimum),
    ('min_cores', lambda a: a.core_minimum),
    ('vos', lambda a: format_columns.ListColumn(a.vos)),
    ('endorser', lambda a: a.endorser.dn if a.endorser else None),
    ('endorser_ca', lambda a: a.endorser.ca if a.endorser else None),
    ('endorser_email', lambda a: a.endorser.email if a.endorser else None),
    ('created', lambda a: model.format_time(a.created)),
    ('expires', lambda a: model.format_time(a.expires)),
    ('deprecated', lambda a: a.deprecated),
    ('replaces', lambda a: a.replaces),
    ('replaced_by', lambda a: a.replaced_by),
    ('location', lambda a: a.locations[0] if a.locations else None),
    ('properties', lambda a: format_columns.DictColumn(
        a.glance_properties)),
)


def appliance_row(appliance, names=None):
    """Return ``(columns, values)`` of an appliance for OSC's formatters."""
    fields = [(n, f) for n, f in _FIELDS if names is None or n in names]
    return (tuple(n for n, _ in fields),
            tuple(f(appliance) for _, f in fields))


class _Progress:
    """A progress bar on stderr, only when stderr is a terminal."""

    def __init__(self, total, description):
        self.bar = None
        if sys.stderr.isatty():
            self.bar = tqdm.tqdm(total=total, desc=description, unit='B',
                                 unit_scale=True, unit_divisor=1024,
                                 file=sys.stderr, leave=False)

    def __call__(self, count):
        if self.bar is not None:
            self.bar.update(count)

    def close(self):
        if self.bar is not None:
            self.bar.close()


class _ApplianceMixin:
    """Run without Keystone and turn appliance errors into CLI errors."""

    auth_required = False

    def take_action(self, parsed_args):
        try:
            return self.act(parsed_args)
        except exceptions.ApplianceError as error:
            raise osc_exceptions.CommandError(str(error)) from None

    @property
    def appliance_client(self):
        return self.app.client_manager.appliance


def _expiry(parsed_args):
    if parsed_args.expires:
        return model.parse_time(parsed_args.expires, '--expires')
    if parsed_args.validity_days:
        return model.now() + datetime.timedelta(
            days=parsed_args.validity_days)
    return None


class CreateAppliance(_ApplianceMixin, command.ShowOne):
    """Upload a disk image to the registry and publish it as an appliance.

    The image is streamed once (no temporary copy); SHA-512, SHA-256 and
    SHA-1 are computed on the way, and the appliance becomes visible under
    its reference only when the registry has verified the whole upload.
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('file', metavar='<file>',
                            help='Disk image to upload ("-" for stdin)')
        parser.add_argument('--reference', metavar='<repository:tag>',
                            required=True,
                            help='Where to publish, e.g. vo.example.org/'
                                 'ubuntu:22.04 (one repository per VO)')
        parser.add_argument('--title', metavar='<title>', required=True)
        parser.add_argument('--description', metavar='<text>', default='')
        parser.add_argument('--version', metavar='<version>',
                            help='Appliance version (default: the tag)')
        parser.add_argument('--disk-format', metavar='<format>',
                            default='qcow2', choices=model.DISK_FORMATS,
                            help='Disk format (default qcow2; of the disk '
                                 'inside for an OVA)')
        parser.add_argument('--container-format', metavar='<format>',
                            default='bare', choices=model.CONTAINER_FORMATS,
                            help='bare (default), or ova for an OVA '
                                 'archive (give --disk-format vmdk)')
        # Not --os/--os-version: OSC's global parser owns the --os- prefix.
        parser.add_argument('--distro', metavar='<distro>',
                            help='OS distribution (os_distro), e.g. ubuntu')
        parser.add_argument('--distro-version', metavar='<version>',
                            help='OS version (os_version), e.g. 22.04')
        parser.add_argument('--architecture', metavar='<arch>',
                            help='CPU architecture, e.g. x86_64')
        parser.add_argument('--hypervisor', metavar='<hypervisor>')
        parser.add_argument('--min-ram', metavar='<MiB>', type=int)
        parser.add_argument('--min-cores', metavar='<count>', type=int)
        parser.add_argument('--vo', metavar='<vo>', action='append',
                            default=[], dest='vos',
                            help='VO the appliance is for (repeatable)')
        parser.add_argument('--replaces', metavar='<identifier>',
                            help='Identifier of the appliance this one '
                                 'replaces')
        parser.add_argument('--property', metavar='<key=value>',
                            action=parseractions.KeyValueAction,
                            default={}, dest='properties',
                            help='Glance property, key org.openstack.'
                                 'glance.* (repeatable)')
        expiry = parser.add_mutually_exclusive_group()
        expiry.add_argument('--expires', metavar='<ISO 8601 date>')
        expiry.add_argument('--validity-days', metavar='<days>', type=int)
        parser.add_argument('--replace', action='store_true',
                            help='Replace an appliance already published '
                                 'at this reference')
        return parser

    def act(self, parsed_args):
        fields = dict(
            description=parsed_args.description,
            disk_format=parsed_args.disk_format,
            container_format=parsed_args.container_format,
            os=parsed_args.distro,
            os_version=parsed_args.distro_version,
            arch=parsed_args.architecture,
            hypervisor=parsed_args.hypervisor,
            ram_minimum=parsed_args.min_ram,
            core_minimum=parsed_args.min_cores, vos=parsed_args.vos,
            replaces=parsed_args.replaces, expires=_expiry(parsed_args),
            glance_properties=parsed_args.properties)
        if parsed_args.version:
            fields['version'] = parsed_args.version
        if parsed_args.file == '-':
            source, total, name = sys.stdin.buffer, None, None
        else:
            try:
                source = open(parsed_args.file, 'rb')
            except OSError as error:
                raise exceptions.InvalidInput(
                    'Cannot read image file %s: %s.'
                    % (parsed_args.file, error.strerror)) from None
            total = os.fstat(source.fileno()).st_size
            name = os.path.basename(parsed_args.file)
        progress = _Progress(total, 'upload')
        try:
            appliance = self.appliance_client.repository.create(
                parsed_args.reference, source, parsed_args.title,
                file_name=name, progress=progress,
                replace=parsed_args.replace, **fields)
        finally:
            progress.close()
            if source is not sys.stdin.buffer:
                source.close()
        return appliance_row(appliance)


class ListAppliance(_ApplianceMixin, command.Lister):
    """List the appliances published in the registry."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('--repository', metavar='<repository>',
                            help='Only this repository (e.g. one VO\'s)')
        parser.add_argument('--long', action='store_true',
                            help='Show checksums, endorser and expiry')
        return parser

    def act(self, parsed_args):
        names = ['identifier', 'title', 'version', 'disk_format', 'size',
                 'deprecated']
        if parsed_args.long:
            names += ['sha512', 'endorser', 'expires', 'vos']
        rows = []
        columns = ('reference',)
        for reference, appliance in self.appliance_client.repository.list(
                parsed_args.repository):
            columns_, values = appliance_row(appliance, names)
            columns = ('reference',) + columns_
            rows.append((reference,) + values)
        if not rows:
            columns += tuple(n for n, _ in _FIELDS if n in names)
        return columns, rows


class ShowAppliance(_ApplianceMixin, command.ShowOne):
    """Show an appliance's metadata."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('reference', metavar='<reference>',
                            help='REPOSITORY:TAG or REPOSITORY@DIGEST')
        return parser

    def act(self, parsed_args):
        return appliance_row(self.appliance_client.repository.show(
            parsed_args.reference))


class SaveAppliance(_ApplianceMixin, command.Command):
    """Download an appliance into a file, verifying every checksum.

    The content goes to a temporary file beside the target, renamed into
    place only when size, SHA-512 and SHA-256 match the metadata.
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('reference', metavar='<reference>')
        parser.add_argument('--file', metavar='<path>', required=True)
        return parser

    def act(self, parsed_args):
        repo = self.appliance_client.repository
        target = os.path.abspath(parsed_args.file)
        handle, partial = tempfile.mkstemp(
            dir=os.path.dirname(target), prefix='.%s.' %
            os.path.basename(target), suffix='.partial')
        progress = _Progress(None, 'download')
        try:
            with os.fdopen(handle, 'wb') as out:
                repo.download(parsed_args.reference, out, progress=progress)
            os.replace(partial, target)
        finally:
            progress.close()
            if os.path.exists(partial):
                os.unlink(partial)


class DeprecateAppliance(_ApplianceMixin, command.ShowOne):
    """Mark an appliance deprecated, with the reason sites will show."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('reference', metavar='<repository:tag>')
        parser.add_argument('--reason', metavar='<text>', required=True)
        parser.add_argument('--replaced-by', metavar='<identifier>',
                            help='Identifier of the replacement appliance')
        return parser

    def act(self, parsed_args):
        return appliance_row(self.appliance_client.repository.deprecate(
            parsed_args.reference, parsed_args.reason,
            parsed_args.replaced_by))


class DeleteAppliance(_ApplianceMixin, command.Command):
    """Delete appliances from the registry (their manifests)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('references', metavar='<reference>', nargs='+')
        return parser

    def act(self, parsed_args):
        failures = []
        for reference in parsed_args.references:
            try:
                self.appliance_client.repository.delete(reference)
            except exceptions.ApplianceError as error:
                failures.append(str(error))
        if failures:
            raise exceptions.ApplianceError(
                '%d of %d appliances not deleted: %s'
                % (len(failures), len(parsed_args.references),
                   ' | '.join(failures)))


def _read_source(source):
    """Return the bytes of an image list given as path, URL or ``-``."""
    if source == '-':
        return sys.stdin.buffer.read(image_list.MAX_DOCUMENT_BYTES + 1)
    if source.startswith(('https://', 'http://')):
        try:
            with requests.get(source, timeout=60, stream=True) as response:
                response.raise_for_status()
                return response.raw.read(image_list.MAX_DOCUMENT_BYTES + 1,
                                         decode_content=True)
        except requests.RequestException as error:
            raise exceptions.InvalidInput(
                'Cannot fetch image list %s: %s.' % (source, error)) from None
    try:
        with open(source, 'rb') as f:
            return f.read(image_list.MAX_DOCUMENT_BYTES + 1)
    except OSError as error:
        raise exceptions.InvalidInput(
            'Cannot read image list %s: %s.' % (source, error.strerror)
        ) from None


def _is_plain_file(location):
    """True for an HTTP(S) file that is not a registry blob (AppDB's)."""
    try:
        registry.parse_blob_url(location)
    except exceptions.InvalidInput:
        return adoption.is_file_url(location)
    return False


class EndorseAppliance(_ApplianceMixin, command.ShowOne):
    """Sign an image list endorsing appliances from the registry.

    Each appliance gets an entry whose hv:uri is its registry blob URL.
    With --image-list, the entries of an existing list (yours) are kept
    and the given appliances added or refreshed; the list is re-signed.
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('references', metavar='<reference>', nargs='+',
                            help='Appliances to endorse (REPOSITORY:TAG)')
        parser.add_argument('--certificate', metavar='<pem>', required=True,
                            help='Endorser X.509 certificate (PEM)')
        parser.add_argument('--key', metavar='<pem>', required=True,
                            help='Endorser private key (PEM, unencrypted)')
        parser.add_argument('--output', metavar='<path>', required=True,
                            help='Where to write the signed list')
        parser.add_argument('--image-list', metavar='<path>',
                            help='Existing list to extend')
        parser.add_argument('--title', metavar='<title>',
                            default='Endorsed appliances')
        parser.add_argument('--vo', metavar='<vo>',
                            help='VO of the list (ad:vo)')
        parser.add_argument('--uri', metavar='<url>', default='',
                            help='Where the list will be published')
        parser.add_argument('--validity-days', metavar='<days>', type=int,
                            default=30)
        parser.add_argument('--expires', metavar='<ISO 8601 date>',
                            help='Expiry of the endorsed entries '
                                 '(default: the list\'s)')
        return parser

    def _start_list(self, parsed_args):
        validity = datetime.timedelta(days=parsed_args.validity_days)
        if not parsed_args.image_list:
            return image_list.ImageList.new(
                parsed_args.title, model.Endorser(dn='', ca=''),
                validity=validity, vo=parsed_args.vo, uri=parsed_args.uri)
        content = image_list.signed_content(
            _read_source(parsed_args.image_list), parsed_args.image_list)
        existing = image_list.ImageList.from_document(
            image_list.parse_json(content, parsed_args.image_list),
            parsed_args.image_list)
        existing.created = model.now()
        existing.expires = existing.created + validity
        return existing

    def act(self, parsed_args):
        def read(path):
            try:
                with open(path, 'rb') as f:
                    return f.read()
            except OSError as error:
                raise exceptions.InvalidInput(
                    'Cannot read %s: %s.' % (path, error.strerror)) from None

        cert_pem, key_pem = read(parsed_args.certificate), read(
            parsed_args.key)
        the_list = self._start_list(parsed_args)
        expires = (model.parse_time(parsed_args.expires, '--expires')
                   if parsed_args.expires else the_list.expires)
        repo = self.appliance_client.repository
        for reference in parsed_args.references:
            appliance = repo.show(reference)
            appliance.expires = expires
            the_list.add(appliance)
        document = the_list.sign(cert_pem, key_pem)
        partial = parsed_args.output + '.partial'
        with open(partial, 'wb') as f:
            f.write(document)
        os.replace(partial, parsed_args.output)
        return (('identifier', 'title', 'endorser', 'endorser_ca',
                 'expires', 'appliances', 'output'),
                (the_list.identifier, the_list.title, the_list.endorser.dn,
                 the_list.endorser.ca, model.format_time(the_list.expires),
                 format_columns.ListColumn(
                     a.identifier for a in the_list.appliances),
                 parsed_args.output))


class VerifyImageList(_ApplianceMixin, command.Lister):
    """Verify an image list against the site's CAs and trust policy.

    Prints one verdict for the list and one per appliance, each with its
    reason, and exits 0 only when everything is trusted. With
    --check-content, each trusted appliance is also downloaded from its
    registry location and its size and checksums compared.
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('image_list', metavar='<image-list>',
                            help='Path, URL or "-" of the signed list')
        parser.add_argument('--ca-path', metavar='<dir>', required=True,
                            help='Directory of hashed trusted CA '
                                 'certificates')
        parser.add_argument('--policy', metavar='<file>',
                            help='Site trust policy (YAML)')
        parser.add_argument('--check-content', action='store_true',
                            help='Also check each appliance\'s content in '
                                 'its registry')
        return parser

    def _check_blob(self, appliance, progress):
        base, _, _ = registry.parse_blob_url(appliance.locations[0])
        client = self.appliance_client.client_for(base)
        try:
            repository.ApplianceRepository(client).check_content(
                appliance, progress=progress)
        finally:
            client.close()

    @staticmethod
    def _check_file(appliance, progress):
        """A plain HTTPS file (AppDB): read once, size and SHA-512."""
        session = adoption.download_session()
        try:
            adoption.check_file(appliance.locations[0], appliance, session,
                                progress)
        finally:
            session.close()

    def _check_content(self, appliance, verdict):
        progress = _Progress(appliance.size, appliance.identifier)
        try:
            if not appliance.locations:
                raise exceptions.InvalidInput('it has no hv:uri')
            if _is_plain_file(appliance.locations[0]):
                self._check_file(appliance, progress)
            else:
                self._check_blob(appliance, progress)
        except exceptions.ApplianceError as error:
            return trust.Verdict(verdict.subject, False,
                                 '%s: content check failed: %s'
                                 % (verdict.subject, error))
        finally:
            progress.close()
        return trust.Verdict(verdict.subject, True,
                             verdict.reason + '; content size and '
                             'checksums verified')

    def act(self, parsed_args):
        policy = (trust.TrustPolicy.load(parsed_args.policy)
                  if parsed_args.policy else trust.TrustPolicy())
        document = _read_source(parsed_args.image_list)
        the_list, verdicts = trust.evaluate(document, parsed_args.ca_path,
                                            policy,
                                            source=parsed_args.image_list)
        if the_list is not None and parsed_args.check_content:
            verdicts = verdicts[:1] + [
                self._check_content(a, v) if v.trusted else v
                for a, v in zip(the_list.appliances, verdicts[1:])]
        self.untrusted = [v for v in verdicts if not v.trusted]
        for verdict in self.untrusted:
            self.app.stderr.write(verdict.reason + '\n')
        return (('subject', 'trusted', 'reason'),
                [(v.subject, v.trusted, v.reason) for v in verdicts])

    def run(self, parsed_args):
        self.untrusted = []
        result = super().run(parsed_args)
        return 1 if self.untrusted else result
