# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.
"""Unit tests of the pieces of esi-agent-manage that need no service."""

import argparse
import io
import json
import types

from esi_agent.jobs import store
from esi_agent.manage import app
from esi_agent.manage import base as manage_base
from esi_agent.manage import cast
from esi_agent.manage import jobs
from esi_agent.tests import base


class TestArguments(base.TestCase):

    def test_seconds(self):
        self.assertEqual(2.5, manage_base.seconds('2.5'))
        self.assertEqual(0, manage_base.seconds('0'))
        for bad in ('-1', 'soon', 'nan', 'inf'):
            self.assertRaises(argparse.ArgumentTypeError,
                              manage_base.seconds, bad)

    def test_resource(self):
        self.assertEqual(('port', None), manage_base.resource('port'))
        self.assertEqual(('port', 'p1'), manage_base.resource('port/p1'))
        self.assertRaises(argparse.ArgumentTypeError,
                          manage_base.resource, '/p1')


class TestMasking(base.TestCase):

    def test_secrets_are_masked(self):
        job = {'id': 'j', 'params': [
            {'param': 'admin_password', 'type': 'value', 'value': 'pw1'},
            {'param': 'name', 'type': 'value', 'value': 'net'},
            {'param': 'vlans', 'type': 'list', 'value': [
                {'param': 'api_token', 'type': 'value', 'value': 'tk'}]},
            {'param': 'network', 'type': 'output_key', 'value': {
                'output_key': 'id', 'resource_type': 'network',
                'resource_id': 'n1'}}],
            'resource_input': {'tenant_id': 't', 'auth': {'secret': 's1'}},
            'as_received': {'params': [{'param': 'password', 'value': 'pw2'}],
                            'password': 'pw3'}}
        masked = manage_base.masked_job(job)
        text = json.dumps(masked)
        for secret in ('pw1', 'tk', 's1', 'pw2', 'pw3'):
            self.assertNotIn(secret, text)
        self.assertEqual('net', masked['params'][1]['value'])
        # An output_key reference is no secret.
        self.assertEqual('id', masked['params'][3]['value']['output_key'])
        self.assertEqual('t', masked['resource_input']['tenant_id'])
        self.assertEqual('pw1', job['params'][0]['value'])  # a copy

    def test_not_a_dict(self):
        self.assertEqual([1], manage_base.masked_job([1]))


class TestCells(base.TestCase):

    def test_timestamp(self):
        cell = manage_base.Timestamp(0.5)
        self.assertEqual('1970-01-01T00:00:00Z', cell.human_readable())
        self.assertEqual(0.5, cell.machine_readable())
        self.assertEqual('', manage_base.Timestamp(None).human_readable())

    def test_text_cut_in_tables_only(self):
        cell = manage_base.Text('x' * 150)
        self.assertEqual(100, len(cell.human_readable()))
        self.assertEqual('x' * 150, cell.machine_readable())

    def test_counts_and_names(self):
        self.assertEqual('a=1, b=2',
                         manage_base.Counts({'b': 2, 'a': 1}).human_readable())
        self.assertEqual('x, y',
                         manage_base.Names(['x', 'y']).human_readable())


class TestJobFilters(base.TestCase):

    def stored(self, status='PENDING', received_at=1000.0):
        return store.StoredJob(store.job_record(
            {'id': 'j', 'resource_type': 'port', 'resource_id': 'p1'},
            status, received_at), 5)

    def args(self, **kw):
        values = dict(state=None, resource=None, older_than=None,
                      newer_than=None)
        values.update(kw)
        return types.SimpleNamespace(**values)

    def test_filters(self):
        stored, now = self.stored(), 1100.0
        self.assertTrue(jobs._selected(stored, self.args(), now))
        for kw, selected in (
                ({'state': ['PENDING', 'FAILED']}, True),
                ({'state': ['FAILED']}, False),
                ({'resource': ('port', None)}, True),
                ({'resource': ('port', 'p1')}, True),
                ({'resource': ('port', 'p2')}, False),
                ({'resource': ('network', None)}, False),
                ({'older_than': 50}, True),
                ({'older_than': 150}, False),
                ({'newer_than': 150}, True),
                ({'newer_than': 50}, False)):
            self.assertEqual(selected, jobs._selected(
                stored, self.args(**kw), now), kw)


class TestLoadJobs(base.TestCase):

    def test_one_job_or_a_list(self):
        self.assertEqual([{'id': 'a'}], cast.load_jobs(
            '-', io.StringIO('{"id": "a"}')))
        self.assertEqual([{'id': 'a'}, {'id': 'b'}], cast.load_jobs(
            '-', io.StringIO('[{"id": "a"}, {"id": "b"}]')))

    def test_bad_input(self):
        for text, message in (('{', 'is not JSON'),
                              ('[1]', 'item 0 is not a JSON object')):
            error = self.assertRaises(manage_base.ManageError,
                                      cast.load_jobs, '-',
                                      io.StringIO(text))
            self.assertIn(message, str(error))
        error = self.assertRaises(manage_base.ManageError, cast.load_jobs,
                                  '/nonexistent/job.json')
        self.assertIn('Cannot read /nonexistent/job.json', str(error))


class TestApp(base.TestCase):

    def test_bus_retries_fit_the_timeout(self):
        manage = app.ManageApp()
        for timeout, retries in ((0, 0), (1, 1), (3.9, 1), (4, 2), (10, 3)):
            manage.options = types.SimpleNamespace(timeout=timeout)
            self.assertEqual(retries, manage.bus_retries())

    def test_commands(self):
        out = io.StringIO()
        manage = app.ManageApp(stdout=out, stderr=io.StringIO())
        names = {name for name, _cmd in manage.command_manager}
        self.assertTrue({'jobs list', 'jobs show', 'jobs retry',
                         'jobs purge', 'resource show', 'cast',
                         'status'} <= names, names)
