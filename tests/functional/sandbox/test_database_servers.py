"""The harnesses a site-like deployment needs: PostgreSQL, MariaDB, and
glance-api with several worker processes on it (what tools/bench/sync.py
runs).

The PostgreSQL and MariaDB servers are Debian's, started by the test;
glance-api is the ``glance`` package's, two processes sharing one
listening socket.
"""

import hashlib
import os

import psutil
import sqlalchemy as sa
import testtools

from stratuslab_plugins.sandbox import glance_api
from tests.functional import glance_fixture
from tests.functional import mariadb_fixture
from tests.functional import postgres_fixture


class PostgreSQLTest(testtools.TestCase):

    def test_databases_are_created_and_removed_with_the_server(self):
        server = postgres_fixture.PostgreSQLFixture()
        server.setUp()
        try:
            url = server.create_database('ledger')
            engine = sa.create_engine(url)
            with engine.begin() as connection:
                connection.execute(sa.text('CREATE TABLE t (x INTEGER)'))
                connection.execute(sa.text('INSERT INTO t VALUES (42)'))
            with engine.connect() as connection:
                self.assertEqual(42, connection.execute(
                    sa.text('SELECT x FROM t')).scalar())
            engine.dispose()
            directory = server.server.directory
            self.assertTrue(os.path.isdir(directory))
        finally:
            server.cleanUp()
        self.assertFalse(os.path.exists(directory))


class MariaDBTest(testtools.TestCase):

    def test_databases_are_created_and_removed_with_the_server(self):
        server = mariadb_fixture.MariaDBFixture()
        server.setUp()
        try:
            url = server.create_database('ledger')
            engine = sa.create_engine(url)
            with engine.begin() as connection:
                connection.execute(sa.text(
                    'CREATE TABLE t (x INTEGER PRIMARY KEY, name TEXT)'))
                connection.execute(sa.text(
                    "INSERT INTO t VALUES (42, '\U0001f680')"))
            with engine.connect() as connection:
                self.assertEqual((42, '\U0001f680'), tuple(connection.execute(
                    sa.text('SELECT x, name FROM t')).one()))
            engine.dispose()
            directory = server.server.directory
            self.assertTrue(os.path.exists(server.server.socket))
        finally:
            server.cleanUp()
        self.assertFalse(os.path.exists(directory))


class MultiWorkerGlanceTest(testtools.TestCase):

    def test_several_workers_need_a_database_server(self):
        error = self.assertRaises(glance_api.GlanceAPIError,
                                  glance_api.GlanceAPI, workers=2)
        self.assertIn('database_url', str(error))

    def test_two_workers_share_the_socket_and_the_database(self):
        database = self.useFixture(postgres_fixture.PostgreSQLFixture())
        self.glance = self.useFixture(glance_fixture.GlanceAPIFixture(
            workers=2, database_url=database.create_database('glance')))
        pids = self.glance.api.pids
        self.assertEqual(2, len(set(pids)))
        self.assertTrue(self.glance.api.running)
        data = os.urandom(64 * 1024)
        images = []
        for index in range(6):
            # A fresh connection each time: the kernel hands them to
            # either worker, and each must see what the other wrote.
            conn = self.glance.api.connection()
            images.append(conn.image.create_image(
                name='image-%d' % index, data=data, disk_format='raw',
                container_format='bare', wait=True))
        conn = self.glance.api.connection()
        for image in images:
            fetched = conn.image.get_image(image.id)
            self.assertEqual('active', fetched.status)
            self.assertEqual(hashlib.sha512(data).hexdigest(),
                             fetched.hash_value)
        self.assertEqual({i.id for i in images},
                         {i.id for i in conn.image.images()})
        for pid in pids:
            self.assertTrue(psutil.pid_exists(pid))
