"""AppDB's image lists synced into a real glance-api.

Starts, once for the class, Debian's docker-registry and a glance-api
with an ``appliance`` store on it (base.py). The list is the AppDB list
of tests/fixtures/appdb, in AppDB's exact spelling (``"QCOW2"``,
``"OVA"``, numbers as strings, ``sl:osname``), with each entry pointed at
content the test made, endorsed and signed by a CA made for the class.
It proves, through Glance's own API, that the sync registers such
entries with the formats Glance accepts (an OVA as container ``ova``
with a vmdk disk), Glance's ``os_distro`` and AppDB's marketplace URI,
and that a second sync writes nothing.
"""

import io
import os
import tarfile

from stratuslab_plugins.appliance.sync import plan
from tests.fixtures import appdb
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
