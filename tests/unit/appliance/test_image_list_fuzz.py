"""Fuzzing image lists: only InvalidInput escapes, memory stays bounded.

Hypothesis feeds the reader what a hostile or broken endorser could sign:
any JSON document, the AppDB list with any value in any field, the
AppDB list's text cut and spliced, and raw bytes. Signatures are not
fuzzed (openssl verifies them before any of this is read); what follows
the signature is :func:`hepix.loads` and :meth:`ImageList.from_document`,
which must refuse with :class:`InvalidInput` or give a well-formed list.
The failures found are kept as plain tests in test_hepix.RefusalTest.
"""

import json
import tracemalloc

import hypothesis
from hypothesis import strategies as st
import testtools

from stratuslab_plugins.appliance import exceptions
from stratuslab_plugins.appliance import hepix
from stratuslab_plugins.appliance import image_list
from stratuslab_plugins.appliance import model
from tests.fixtures import appdb

SOURCE = 'image list fuzz'
SETTINGS = hypothesis.settings(
    max_examples=100, deadline=None, database=None,
    suppress_health_check=[hypothesis.HealthCheck.too_slow])

scalars = (st.none() | st.booleans()
           | st.integers(min_value=-10 ** 25, max_value=10 ** 25)
           | st.floats() | st.text(max_size=24))
values = st.recursive(
    scalars, lambda inner: (st.lists(inner, max_size=4)
                            | st.dictionaries(st.text(max_size=12), inner,
                                              max_size=4)),
    max_leaves=16)
ENTRY_FIELDS = sorted(hepix.ENTRY_FIELDS
                      | {'org.openstack.glance.os_type', 'ad:appid'})
LIST_FIELDS = sorted(appdb.document()['hv:imagelist'])


def read(text):
    """Read ``text`` as a list: the list, or InvalidInput raised."""
    return image_list.ImageList.from_document(hepix.loads(text, SOURCE),
                                              SOURCE)


def check_well_formed(listed):
    for appliance in listed.appliances:
        assert 0 <= appliance.size <= hepix.MAX_SIZE
        assert appliance.disk_format in model.DISK_FORMATS
        assert appliance.container_format in model.CONTAINER_FORMATS
        for when in (appliance.created, appliance.expires):
            assert when is None or model.format_time(when)


class ImageListFuzzTest(testtools.TestCase):

    def read_or_refuse(self, text):
        try:
            listed = read(text)
        except exceptions.InvalidInput as error:
            self.assertIn(SOURCE, str(error))
            return None
        check_well_formed(listed)
        return listed

    @SETTINGS
    @hypothesis.given(values)
    def test_any_json_document(self, document):
        self.read_or_refuse(json.dumps(document))
        self.read_or_refuse(json.dumps({'hv:imagelist': document}))

    @SETTINGS
    @hypothesis.given(st.integers(0, 3), st.sampled_from(ENTRY_FIELDS),
                      values)
    def test_any_value_in_any_entry_field(self, index, field, value):
        doc = appdb.document()
        doc['hv:imagelist']['hv:images'][index]['hv:image'][field] = value
        listed = self.read_or_refuse(json.dumps(doc))
        if listed is None:
            return
        self.assertEqual(4, len(listed.appliances))

    @SETTINGS
    @hypothesis.given(st.sampled_from(LIST_FIELDS), values)
    def test_any_value_in_any_list_field(self, field, value):
        doc = appdb.document()
        doc['hv:imagelist'][field] = value
        self.read_or_refuse(json.dumps(doc))

    @SETTINGS
    @hypothesis.given(st.data())
    def test_spliced_text(self, data):
        text = json.dumps(appdb.document())
        start = data.draw(st.integers(0, len(text)))
        end = data.draw(st.integers(start, min(len(text), start + 400)))
        where = data.draw(st.integers(0, len(text)))
        # Cut a slice out, or repeat it elsewhere (repeated keys, brackets).
        if data.draw(st.booleans()):
            text = text[:start] + text[end:]
        else:
            text = text[:where] + text[start:end] + text[where:]
        self.read_or_refuse(text)

    @SETTINGS
    @hypothesis.given(st.binary(max_size=600))
    def test_any_bytes(self, content):
        try:
            hepix.loads(content, SOURCE)
        except exceptions.InvalidInput as error:
            self.assertIn(SOURCE, str(error))

    @hypothesis.settings(SETTINGS, max_examples=25)
    @hypothesis.given(st.integers(1, 200000), st.sampled_from('[{'))
    def test_memory_stays_bounded(self, depth, bracket):
        closing = {'[': ']', '{': '}'}[bracket]
        inner = '"k": ' if bracket == '{' else ''
        text = ('{"hv:imagelist": {"x": ' + (bracket + inner) * depth
                + '1' + closing * depth + '}}')
        tracemalloc.start()
        try:
            self.read_or_refuse(text)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        # Refused before the nesting turns into objects: far less than
        # the Python objects of a parsed document of that size.
        self.assertLess(peak, 64 * len(text) + (1 << 20))
