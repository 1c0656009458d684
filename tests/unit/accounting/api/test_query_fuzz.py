"""Fuzzing the usage API's query parameters: 400 naming one, never a 500.

Hypothesis feeds the period parser ISO 8601 times at every offset and at
the ends of the calendar, and anything else as text; then the whole WSGI
application (the real one, over a real SQLite ledger, the token's
identity given as keystonemiddleware would pass it on) any query string:
repeated, unknown and empty parameters, long values, bytes that are not
UTF-8. Each answer must be 200 with a period that ends by the time of the
request and at most ``max_points`` buckets, or 400 whose error names a
parameter; the memory a request takes stays bounded. Failures found are
kept as plain tests in test_periods.BadValuesTest.
"""

import datetime
import os
import tracemalloc
import urllib.parse

import fixtures
import hypothesis
from hypothesis import strategies as st
from oslo_config import cfg
import testtools
import webob

from stratuslab_plugins.accounting.api import app as app_mod
from stratuslab_plugins.accounting.api import periods
from stratuslab_plugins.accounting.ledger import usage as usage_mod
from stratuslab_plugins.conf import grid as grid_conf
from tests.unit.accounting.api import test_app

UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 11, 17, 9, 30, tzinfo=UTC)
MAX_DAYS, MAX_POINTS = 400, 400
SETTINGS = hypothesis.settings(
    max_examples=150, deadline=None, database=None,
    suppress_health_check=[hypothesis.HealthCheck.too_slow])
PARAMETERS = ('since', 'until', 'step', 'by')
#: What one request may allocate (the ledger holds three VMs).
MAX_REQUEST_BYTES = 8 * 1024 * 1024

offsets = st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(
    lambda minutes: datetime.timezone(datetime.timedelta(minutes=minutes)))
# Near the ends of the calendar, and near the time of the request.
instants = (st.datetimes(min_value=datetime.datetime(1, 1, 1),
                         max_value=datetime.datetime(9999, 12, 31, 23, 59))
            | st.datetimes(min_value=datetime.datetime(2024, 1, 1),
                           max_value=datetime.datetime(2028, 1, 1)))
iso_times = st.one_of(
    st.builds(lambda when, tz: when.replace(tzinfo=tz).isoformat(),
              instants, offsets),
    instants.map(lambda when: when.isoformat()),
    instants.map(lambda when: when.date().isoformat()))
values = st.one_of(iso_times, st.text(max_size=80),
                   st.sampled_from(periods.STEPS + periods.GROUPINGS),
                   st.text(min_size=60, max_size=300))


def query_strings():
    pairs = st.lists(st.tuples(st.sampled_from(PARAMETERS + ('x',)),
                               values), max_size=6)
    raw = st.binary(max_size=64).map(
        lambda data: 'since=' + urllib.parse.quote_from_bytes(data))
    return pairs.map(urllib.parse.urlencode) | raw


class PeriodFuzzTest(testtools.TestCase):

    @SETTINGS
    @hypothesis.given(st.none() | values, st.none() | values)
    def test_a_period_is_bounded_or_refused_naming_its_parameter(
            self, since, until):
        try:
            period = periods.period(since, until, NOW, MAX_DAYS)
        except periods.BadRequest as exc:
            self.assertTrue(str(exc).startswith(('since=', 'until=')),
                            str(exc))
            return
        self.assertLess(period.since, period.until)
        self.assertLessEqual(period.until, NOW)
        self.assertLessEqual((period.until - period.since).days, MAX_DAYS)

    @SETTINGS
    @hypothesis.given(instants, st.integers(min_value=1, max_value=10 ** 6),
                      st.sampled_from(periods.STEPS),
                      st.integers(min_value=2, max_value=500))
    def test_buckets_cover_the_period_in_order_or_are_refused(
            self, since, seconds, step, max_points):
        since = since.replace(tzinfo=UTC)
        until = since + datetime.timedelta(seconds=seconds * 60)
        hypothesis.assume(until.year < 9999)
        try:
            edges = periods.boundaries(since, until, step, max_points)
        except periods.BadRequest as exc:
            self.assertIn('max_points', str(exc))
            return
        self.assertEqual((since, until), (edges[0], edges[-1]))
        self.assertLessEqual(len(edges) - 1, max_points)
        self.assertEqual(sorted(set(edges)), edges)


class QueryFuzzTest(testtools.TestCase):
    """The application behind keystonemiddleware, as an admin calls it."""

    def setUp(self):
        super().setUp()
        tmp = self.useFixture(fixtures.TempDir()).path
        url = 'sqlite:///' + os.path.join(tmp, 'ledger.sqlite')
        ledger = usage_mod.UsageLedger.from_url(url)
        self.addCleanup(ledger.engine.dispose)
        ledger.record_events([
            test_app.event('a1', 'instance.create.end', test_app.at(1, 12),
                           test_app.ATLAS_P),
            test_app.event('c1', 'instance.create.end', test_app.at(2),
                           test_app.CMS_P1)])
        conf = cfg.ConfigOpts()
        grid_conf.register_opts(conf)
        app_mod.register_opts(conf)
        conf([], default_config_files=[])
        conf.set_override('ledger_connection', url, 'accounting')
        self.app = app_mod.UsageAPI(conf, test_app.VOS,
                                    app_mod.Ledgers(url), now=lambda: NOW)

    def call(self, resource, query):
        request = webob.Request.blank('/v1/%s?%s' % (resource, query))
        request.environ.update(HTTP_X_IDENTITY_STATUS='Confirmed',
                               HTTP_X_ROLES='admin',
                               HTTP_X_PROJECT_ID=test_app.ATLAS_P,
                               HTTP_X_USER_ID='u-admin')
        return request.get_response(self.app)

    @SETTINGS
    @hypothesis.given(st.sampled_from(('usage', 'records')), query_strings())
    def test_any_query_is_answered_or_refused_naming_a_parameter(
            self, resource, query):
        tracemalloc.start()
        try:
            response = self.call(resource, query)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        self.assertLess(peak, MAX_REQUEST_BYTES)
        body = response.json_body
        if response.status_int == 400:
            self.assertTrue(body['error'].startswith(
                tuple(name + '=' for name in PARAMETERS)
                + ('parameter name ', 'the query string ')), body['error'])
            return
        self.assertEqual(200, response.status_int, body)
        until = datetime.datetime.fromisoformat(body['until'])
        self.assertLessEqual(until, NOW)
        for series in body.get('series', ()):
            self.assertLessEqual(len(series['points']), MAX_POINTS)
