"""AppDB's image lists synced into a real glance-api.

Starts, once for the class, Debian's docker-registry and a glance-api
with an ``appliance`` store on it (base.py), and per test an HTTPS file
server with a CA of its own (tests/functional/appliance/file_server.py)
standing for the web servers classic AppDB lists point at. The list is
the AppDB list of tests/fixtures/appdb, in AppDB's exact spelling
(``"QCOW2"``, ``"OVA"``, numbers as strings, ``sl:osname``), with each
entry pointed at content the test made (a registry blob or a file),
endorsed and signed by a CA made for the class. It proves, through
Glance's and the registry's own APIs:

* entries are registered with the formats Glance accepts (an OVA as
  container ``ova`` with a vmdk disk), Glance's ``os_distro`` and AppDB's
  marketplace URI, and a second sync writes nothing;
* plain HTTPS files are adopted into the site's registry (fetched once,
  size and SHA-512 checked on the way) and registered by location; a
  second sync, or another VO subscribed to the same file, fetches
  nothing; content that does not match its entry is never written; a
  broken download resumes with ``Range``; the memory an adoption uses
  does not grow with the file; the console script shows the progress
  and the bytes fetched.
"""

import hashlib
import io
import os
import tarfile
import tracemalloc

import yaml

from stratuslab_plugins.appliance import adoption
from stratuslab_plugins.appliance import exceptions
from stratuslab_plugins.appliance import hepix
from stratuslab_plugins.appliance import registry
from stratuslab_plugins.appliance.sync import plan
from stratuslab_plugins.cmd import appliance_sync
from tests.fixtures import appdb
from tests.functional.appliance import file_server
from tests.functional.sync import base

KiB = 1024


def ova(disk):
    """An OVA: a tar of an OVF descriptor and its disk."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode='w', format=tarfile.USTAR_FORMAT) \
            as archive:
        for name, data in (('appliance.ovf', b'<Envelope/>'),
                           ('appliance-disk1.vmdk', disk)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


class AppDBSyncTest(base.SyncCase):

    def write_appdb_list(self, contents, uri_of):
        """Sign the AppDB list, its entries pointed at ``contents``.

        :param contents: ``{entry index: bytes}``; other entries dropped.
        :param uri_of: gives an entry's ``hv:uri`` from its index and data.
        """
        doc = appdb.document()
        body = doc['hv:imagelist']
        body['ad:vo'] = self.vo
        images = body['hv:images']
        body['hv:images'] = [
            {'hv:image': appdb.point_at(images[index]['hv:image'], data,
                                        uri_of(index, data))}
            for index, data in sorted(contents.items())]
        path = os.path.join(self.dir, '%s-appdb.list' % self.vo)
        with open(path, 'wb') as f:
            f.write(appdb.sign(doc, self.endorser))
        return path, [item['hv:image'] for item in body['hv:images']]

    def blob_uri(self, index, data):
        checksums = self.client.push_blob(self.repository, io.BytesIO(data))
        return self.client.blob_url(self.repository, checksums.digest)

    def test_registry_entries_get_glance_formats_and_os_distro(self):
        contents = {appdb.UBUNTU: os.urandom(64 * KiB),
                    appdb.CENTOS_OVA: ova(os.urandom(48 * KiB))}
        path, entries = self.write_appdb_list(contents, self.blob_uri)
        subscription = self.subscription([{'image_list': path}])
        self.assertSynced(self.sync(subscription))
        images = {image.get(plan.APPDB_ID): image for image in
                  self.wait_active(subscription).values()}
        found = {}
        for entry, (index, data) in zip(entries, sorted(contents.items())):
            record = self.catalog.image(images[entry['dc:identifier']].id)
            found[index] = (record['disk_format'],
                            record['container_format'], record['os_distro'],
                            record['os_version'], record['min_ram'],
                            record['status'])
            self.assertEqual(entry['ad:mpuri'], record[plan.MPURI])
            self.assertEqual(data, self.download(record['id']))
        self.assertEqual(
            {appdb.UBUNTU: ('qcow2', 'bare', 'ubuntu', '22.04', 512,
                            'active'),
             appdb.CENTOS_OVA: ('vmdk', 'ova', 'centos', '7', 0, 'active')},
            found)
        report = self.sync(subscription)
        self.assertSynced(report)
        self.assertEqual(([], []), (report.planned, self.writes))

    # -- classic AppDB entries: plain HTTPS files, adopted -----------------

    def serve(self, contents, break_after=None, ranges=True):
        """Serve ``contents`` ({entry index: bytes}) as AppDB's files.

        :param break_after: ``{entry index: bytes}`` after which the first
            download of that file breaks.
        :param ranges: False for a server that ignores ``Range``.
        :returns: the ``uri_of`` of :meth:`write_appdb_list`.
        """
        names = {index: '%s/%d.img' % (self.vo, index) for index in contents}
        self.files = self.useFixture(file_server.FileServer(
            {names[index]: data for index, data in contents.items()},
            break_after={names[index]: count for index, count
                         in (break_after or {}).items()}, ranges=ranges))
        return lambda index, data: self.files.url(names[index])

    def adopting(self, path, **settings):
        return self.subscription([{'image_list': path}], adopt={
            'registry': self.registry.url,
            'repository': 'adopted/' + self.vo.split('.')[0],
            'ca_file': self.files.ca_file}, **settings)

    def adopted_tag(self, entry):
        return adoption.TAG_PREFIX + entry['sl:checksum:sha512'][:64]

    def test_files_are_adopted_then_registered_by_location(self):
        contents = {appdb.UBUNTU: os.urandom(300 * KiB),
                    appdb.CENTOS_OVA: ova(os.urandom(100 * KiB))}
        path, entries = self.write_appdb_list(contents,
                                              self.serve(contents))
        subscription = self.adopting(path)
        report = self.sync(subscription)
        self.assertSynced(report)
        total = sum(len(data) for data in contents.values())
        self.assertEqual(total, report.fetched)
        self.assertIn('%d bytes fetched' % total, report.summary())
        images = {image.get(plan.APPDB_ID): image for image in
                  self.wait_active(subscription).values()}
        repository = subscription.adopt.repository
        for entry, data in zip(entries, (contents[appdb.UBUNTU],
                                         contents[appdb.CENTOS_OVA])):
            image = images[entry['dc:identifier']]
            self.assertEqual(data, self.download(image.id))
            # Registered by location on the adopted blob, under its tag.
            _, manifest = self.client.get_manifest(repository,
                                                   self.adopted_tag(entry))
            digest = manifest['layers'][0]['digest']
            self.assertEqual('sha256:' + hashlib.sha256(data).hexdigest(),
                             digest)
            self.assertEqual(entry['ad:mpuri'], image.get(plan.MPURI))
        centos = self.catalog.image(images[entries[1]['dc:identifier']].id)
        self.assertEqual(('vmdk', 'ova'), (centos['disk_format'],
                                           centos['container_format']))

        # Nothing fetched again: not by this VO, not by another one.
        fetches = len(self.files.requests)
        report = self.sync(subscription)
        self.assertEqual(([], [], 0), (report.planned, self.writes,
                                       report.fetched))
        other = self.adopting(path)
        other.tag += '-other'
        report = self.sync(other)
        self.assertSynced(report)
        self.assertEqual((2, 0), (len(report.planned), report.fetched))
        self.assertEqual(fetches, len(self.files.requests))

    def test_content_not_matching_its_entry_is_never_written(self):
        good = os.urandom(200 * KiB)
        # The file server holds other bytes than the entries endorse.
        served = {appdb.UBUNTU: os.urandom(200 * KiB),       # SHA-512
                  appdb.ALMA_RAW: good + b'tail',            # size
                  appdb.ROCKY: good[:100 * KiB]}             # size
        uri_of = self.serve(served)
        path, entries = self.write_appdb_list(
            {index: good for index in served}, uri_of)
        subscription = self.adopting(path)
        report = self.sync(subscription)
        errors = ' '.join(error for _, error in report.failed)
        self.assertEqual(3, errors.count('it is not the endorsed file, '
                                         'nothing was written'), errors)
        self.assertIn('has SHA-512', errors)
        self.assertIn('holds 204804 bytes but its entry endorses 204800',
                      errors)
        self.assertIn('holds 102400 bytes but its entry endorses 204800',
                      errors)
        # Refused by Content-Length before reading, or after reading all.
        self.assertEqual(200 * KiB, report.fetched)
        self.assertEqual({}, self.images(subscription))
        repository = subscription.adopt.repository
        for entry in entries:
            self.assertRaises(exceptions.RegistryNotFound,
                              self.client.get_manifest, repository,
                              self.adopted_tag(entry))
        for data in served.values():
            self.assertFalse(self.client.blob_exists(
                repository, 'sha256:' + hashlib.sha256(data).hexdigest()))
        self.assertEqual([], self.registry.uploads(repository))

    def test_a_broken_download_resumes_where_it_broke(self):
        data = os.urandom(600 * KiB)
        uri_of = self.serve({appdb.UBUNTU: data},
                            break_after={appdb.UBUNTU: 250 * KiB})
        path, _ = self.write_appdb_list({appdb.UBUNTU: data}, uri_of)
        subscription = self.adopting(path)
        report = self.sync(subscription)
        self.assertSynced(report)
        ranges = [wanted for _, wanted in self.files.requests]
        self.assertEqual(None, ranges[0])
        self.assertTrue(ranges[1].startswith('bytes='), ranges)
        self.assertGreater(int(ranges[1][6:-1]), 0)
        self.assertLess(report.fetched, 2 * len(data))
        image, = self.wait_active(subscription).values()
        self.assertEqual(data, self.download(image.id))

    def adopt_directly(self, data, repository, **serving):
        """Adopt the Ubuntu entry pointed at ``data`` (no Glance)."""
        uri_of = self.serve({appdb.UBUNTU: data}, **serving)
        _, entries = self.write_appdb_list({appdb.UBUNTU: data}, uri_of)
        appliance = hepix.from_entry({'hv:image': entries[0]})
        client = registry.RegistryClient(self.registry.url,
                                         chunk_size=1024 * KiB)
        session = adoption.download_session(self.files.ca_file)
        try:
            return adoption.adopt(client, repository, appliance,
                                  entries[0]['hv:uri'], session)
        finally:
            session.close()

    def test_a_server_without_ranges_is_read_past_what_was_had(self):
        data = os.urandom(500 * KiB)
        adopted = self.adopt_directly(
            data, 'adopted/norange', break_after={appdb.UBUNTU: 200 * KiB},
            ranges=False)
        self.assertEqual('sha256:' + hashlib.sha256(data).hexdigest(),
                         adopted.digest)
        self.assertEqual(len(data) + 200 * KiB, adopted.fetched)
        self.assertEqual(2, len(self.files.requests))

    def test_memory_does_not_grow_with_the_file(self):
        big = os.urandom(24 * 1024 * KiB)
        tracemalloc.start()
        try:
            adopted = self.adopt_directly(big, 'adopted/memory')
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        self.assertEqual(len(big), adopted.fetched)
        # The resend window and a few pieces, not the 24 MiB file.
        self.assertLess(peak, 8 * 1024 * KiB)

    def test_console_script_shows_progress_and_bytes_fetched(self):
        data = os.urandom(400 * KiB)
        path, _ = self.write_appdb_list({appdb.UBUNTU: data},
                                        self.serve({appdb.UBUNTU: data}))
        subs = os.path.join(self.dir, '%s-adopt.yaml' % self.vo)
        with open(subs, 'w') as f:
            yaml.safe_dump({'vos': {self.vo: {
                'sources': [{'image_list': path}], 'ca_path': self.ca_path,
                'tag': 'sync-' + self.vo, 'projects': [base.PROJECTS[0]],
                'adopt': {'registry': self.registry.url,
                          'repository': 'adopted/console',
                          'ca_file': self.files.ca_file}}}}, f)
        conf = os.path.join(self.dir, '%s-adopt.conf' % self.vo)
        with open(conf, 'w') as f:
            f.write('[sync]\nsubscriptions_file = %s\n[appliance]\n'
                    'registry_url = %s\n' % (subs, self.registry.url))
        out = io.StringIO()
        status = appliance_sync.main(['--config-file', conf], out=out,
                                     connection=self.conn)
        text = out.getvalue()
        self.assertEqual(0, status, text)
        self.assertIn('%d bytes to fetch' % len(data), text)
        self.assertIn('100%%, %d of %d bytes' % (len(data), len(data)), text)
        self.assertIn('%d bytes fetched' % len(data), text)
