"""The ssm messenger writes the dirq queue ssmsend reads."""

from dirq import QueueSimple
import fixtures
import testtools

from stratuslab_plugins.accounting import builders
from stratuslab_plugins.accounting import exceptions
from stratuslab_plugins.accounting.messengers import ssm
from tests.unit.accounting import apel_oracle
from tests.unit.accounting import fakes


def read_queue(path):
    """Return every message body in the queue, as ssmsend would."""
    queue = QueueSimple.QueueSimple(path)
    bodies = []
    name = queue.first()
    while name:
        if queue.lock(name):
            bodies.append(queue.get(name))
            queue.unlock(name)
        name = queue.next()
    return bodies


class TestSSMMessenger(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.tmp = self.useFixture(fixtures.TempDir()).path

    def messenger(self, **ssm_opts):
        ssm_opts.setdefault('output_path', self.tmp + '/outgoing')
        conf = fakes.make_conf(accounting_ssm=ssm_opts)
        return ssm.SSMMessenger(conf, ['cloud', 'storage'])

    def test_records_become_messages_of_at_most_100(self):
        messenger = self.messenger()
        for usage in fakes.usages(250):
            messenger.add(builders.build_cloud_record(usage, fakes.context()))
        messenger.flush()

        bodies = read_queue(self.tmp + '/outgoing')
        self.assertEqual(3, len(bodies))
        counts = sorted(len(apel_oracle.parse(b)) for b in bodies)
        self.assertEqual([50, 100, 100], counts)
        self.assertEqual(250, messenger.accepted)
        self.assertEqual(3, messenger.message_count)

    def test_full_messages_are_written_before_flush(self):
        messenger = self.messenger(max_records=10)
        for usage in fakes.usages(25):
            messenger.add(builders.build_cloud_record(usage, fakes.context()))
        self.assertEqual(2, len(read_queue(self.tmp + '/outgoing')))
        messenger.flush()
        self.assertEqual(3, len(read_queue(self.tmp + '/outgoing')))

    def test_storage_goes_to_its_own_queue(self):
        messenger = self.messenger(storage_output_path=self.tmp + '/storage')
        messenger.add(builders.build_storage_record(builders.VolumeUsage(
            uuid='vol', project_id='p1', created_at=fakes.T0,
            measured_at=fakes.T0, size_gb=1), fakes.context()))
        messenger.add(builders.build_cloud_record(
            next(fakes.usages(1)), fakes.context()))
        messenger.flush()
        [storage] = read_queue(self.tmp + '/storage')
        self.assertIn(b'<sr:StorageUsageRecords', storage)
        [cloud] = read_queue(self.tmp + '/outgoing')
        self.assertTrue(cloud.startswith(b'APEL-cloud-message: v0.4\n'))

    def test_unwritable_queue_names_the_path(self):
        blocker = self.tmp + '/file'
        open(blocker, 'w').close()
        exc = self.assertRaises(exceptions.MessengerError, self.messenger,
                                output_path=blocker + '/queue')
        self.assertIn(blocker + '/queue', str(exc))
