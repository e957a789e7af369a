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
"""``esi-agent-manage`` as an operator runs it, against a running agent.

The command is the installed console script (a process of its own) with a
configuration file like the agent's; the agent runs in-process, on the
test's etcd, RabbitMQ topic and Heat stand-in.
"""

import json
import os
import subprocess
import sys
import time


from esi_agent.jobs import store
from esi_agent import records
from esi_agent.tests.fakes import heat_api
from esi_agent.tests.functional import agent_process
from esi_agent.tests.functional import base
from esi_agent.tests.functional import jobs
from esi_agent.tests import services

_SCRIPT = os.path.join(os.path.dirname(sys.executable), 'esi-agent-manage')
MANAGE = ([_SCRIPT] if os.path.exists(_SCRIPT)
          else [sys.executable, '-m', 'esi_agent.cmd.manage'])

CONFIG = '''[DEFAULT]
transport_url = %(transport_url)s
[agent]
rpc_topic = %(topic)s
[etcd]
host = 127.0.0.1
port = %(etcd_port)d
'''


class ManageTestCase(agent_process.AgentProcessTestCase):

    STACK_TIME = 0.0

    def setUp(self):
        super().setUp()
        self.config(template_dir=self.template_dir, group='templates')
        self.conf_path = self.write_config()

    def write_config(self, name='manage.conf', **values):
        values = dict({'transport_url': services.TRANSPORT_URL,
                       'topic': self.topic,
                       'etcd_port': self.etcd_server.port}, **values)
        path = os.path.join(self.tmp, name)
        with open(path, 'w') as f:
            f.write(CONFIG % values)
        return path

    def manage(self, *args, conf=None, stdin=None):
        """Run esi-agent-manage; returns the CompletedProcess."""
        return subprocess.run(
            MANAGE + ['--config-file', conf or self.conf_path] + list(args),
            input=stdin, capture_output=True, text=True, timeout=120)

    def manage_json(self, *args, **kwargs):
        proc = self.manage(*(args + ('-f', 'json')), **kwargs)
        self.assertEqual(0, proc.returncode, proc.stderr)
        return json.loads(proc.stdout)

    def assertFails(self, proc, message):
        """A non-zero exit with ``message`` in one line, no traceback."""
        self.assertNotEqual(0, proc.returncode, proc.stdout)
        lines = proc.stderr.strip().splitlines()
        self.assertEqual(1, len(lines), proc.stderr)
        self.assertIn(message, lines[0])
        self.assertNotIn('Traceback', proc.stderr)


class TestJobs(ManageTestCase):

    def setUp(self):
        super().setUp()
        self.agent = self.start_agent()

    def test_list_show_and_resource_show(self):
        net = jobs.network(params=[jobs.value('jinja_api_token', 's3cret')],
                           resource_input={'tenant_id': jobs.TENANT,
                                           'password': 'hunter2'})
        orphan = jobs.job('subnet')  # no template: fails
        self.cast(net, orphan)
        self.assertEqual({net['id']: 'COMPLETED', orphan['id']: 'FAILED'},
                         self.wait_final([net['id'], orphan['id']]))

        listed = {row['id']: row for row in self.manage_json('jobs', 'list')}
        self.assertEqual({net['id'], orphan['id']}, set(listed))
        row = listed[net['id']]
        self.assertEqual(
            ('network/%s' % net['resource_id'], 'create', 1, 'COMPLETED',
             '', ''),
            (row['resource'], row['action'], row['version'], row['state'],
             row['owner'], row['error']))
        record = self.job_record(net['id'])
        self.assertEqual(record['received_at'], row['received_at'])
        self.assertEqual(record['finished_at'], row['finished_at'])
        self.assertIn('template subnet not found',
                      listed[orphan['id']]['error'])

        failed = self.manage_json('jobs', 'list', '--state', 'failed')
        self.assertEqual([orphan['id']], [r['id'] for r in failed])
        of_net = self.manage_json('jobs', 'list', '--resource',
                                  'network/%s' % net['resource_id'])
        self.assertEqual([net['id']], [r['id'] for r in of_net])
        self.assertEqual([], self.manage_json('jobs', 'list',
                                              '--older-than', '3600'))
        self.assertEqual(2, len(self.manage_json('jobs', 'list',
                                                 '--newer-than', '3600')))

        shown = self.manage_json('jobs', 'show', net['id'])
        self.assertEqual('COMPLETED', shown['state'])
        body = json.dumps(shown['job'])
        self.assertNotIn('s3cret', body)
        self.assertNotIn('hunter2', body)
        self.assertEqual(net['resource_id'], shown['job']['resource_id'])
        table = self.manage('jobs', 'show', net['id'])
        self.assertEqual(0, table.returncode, table.stderr)
        self.assertIn(net['id'], table.stdout)
        self.assertNotIn('s3cret', table.stdout)

        rtype, rid = 'network', net['resource_id']
        resource = self.manage_json('resource', 'show', rtype, rid)
        for key, (expected, _rev) in self.resource_records(
                rtype, rid).items():
            self.assertEqual(expected, resource[key])
        self.assertEqual(
            1, resource[store.version_key(rtype, rid)])
        self.assertEqual('CREATE_COMPLETED', resource[records.state_key(
            rtype, rid)]['state']['worker_state'])

    def test_unknown_job_and_resource(self):
        self.assertFails(self.manage('jobs', 'show', 'nope'), 'No job nope')
        self.assertFails(self.manage('resource', 'show', 'port', 'nope'),
                         'No records for port nope')

    def test_retry_runs_failed_jobs_again(self):
        # A job gives up on a dependency that comes too late, and fails
        # the job that depends on it.
        self.config(dependency_timeout=3, group='agent')
        late = jobs.network()
        net = jobs.network(dependency=[late['id']])
        after = jobs.network(dependency=[net['id']])
        self.cast(net)
        self.assertEqual({net['id']: 'FAILED'}, self.wait_final([net['id']]))
        self.assertIn('waiting for job %s (not received)' % late['id'],
                      self.job_record(net['id'])['error'])
        self.cast(after)
        self.assertEqual({after['id']: 'FAILED'},
                         self.wait_final([after['id']]))
        self.assertIn('Dependency %s failed' % net['id'],
                      self.job_record(after['id'])['error'])
        self.cast(late)
        self.assertEqual({late['id']: 'COMPLETED'},
                         self.wait_final([late['id']]))
        self.assertFails(self.manage('jobs', 'retry', 'nope'),
                         'No job nope')

        retried = self.manage_json('jobs', 'retry', after['id'], net['id'])
        self.assertEqual([{'id': after['id'], 'state': 'PENDING'},
                          {'id': net['id'], 'state': 'PENDING'}], retried)
        self.assertEqual({net['id']: 'COMPLETED', after['id']: 'COMPLETED'},
                         self.wait_final([net['id'], after['id']]))
        state = self.etcd.get_json(records.state_key(
            'network', net['resource_id']))
        self.assertEqual(('CREATE_COMPLETED', ''),
                         (state['state']['worker_state'], state['error']))
        self.assertFails(self.manage('jobs', 'retry', net['id']),
                         'only a FAILED job can be retried')

    def test_retry_of_a_job_whose_stack_failed_updates_the_stack(self):
        outcomes = [heat_api.Outcome(status=heat_api.FAILED)]
        self.heat.outcome = lambda op: (
            outcomes.pop() if outcomes else heat_api.Outcome())
        net = jobs.network()
        self.cast(net)
        self.assertEqual({net['id']: 'FAILED'}, self.wait_final([net['id']]))
        self.manage_json('jobs', 'retry', net['id'])
        self.assertEqual({net['id']: 'COMPLETED'},
                         self.wait_final([net['id']]))
        # The stack its failed run left is updated, not adopted as is.
        self.assertEqual(['CREATE', 'UPDATE'],
                         [op.action for op in self.heat.operations])
        self.assertEqual(1, self.job_record(net['id'])['attempt'])
        state = self.etcd.get_json(records.state_key(
            'network', net['resource_id']))
        self.assertEqual('CREATE_COMPLETED', state['state']['worker_state'])

    def test_retry_refuses_a_job_rejected_at_intake(self):
        bad = dict(jobs.network(), version='one')
        self.cast(bad)
        self.assertEqual({bad['id']: 'FAILED'}, self.wait_final([bad['id']]))
        self.assertFails(self.manage('jobs', 'retry', bad['id']),
                         'rejected at intake')
        self.assertEqual('FAILED', self.job_status(bad['id']))

    def test_purge_finished_jobs(self):
        net = jobs.network()
        failed = jobs.job('subnet')
        waiting = jobs.network(dependency=['never-sent'])
        self.cast(net, failed, waiting)
        self.wait_final([net['id'], failed['id']])
        self.assertEqual('PENDING', self.job_status(waiting['id']))

        self.assertEqual(
            {'dry_run': False, 'purged': 0, 'COMPLETED': 0, 'FAILED': 0,
             'SUPERSEDED': 0},
            self.manage_json('jobs', 'purge', '--older-than', '3600'))
        self.assertEqual(
            {'dry_run': True, 'purged': 2, 'COMPLETED': 1, 'FAILED': 1,
             'SUPERSEDED': 0},
            self.manage_json('jobs', 'purge', '--older-than', '0',
                             '--dry-run'))
        self.assertIsNotNone(self.job_record(net['id']))
        self.assertEqual(
            {'dry_run': False, 'purged': 2, 'COMPLETED': 1, 'FAILED': 1,
             'SUPERSEDED': 0},
            self.manage_json('jobs', 'purge', '--older-than', '0'))
        self.assertIsNone(self.job_record(net['id']))
        self.assertIsNone(self.job_record(failed['id']))
        self.assertEqual('PENDING', self.job_status(waiting['id']))
        # The records stay.
        self.assertTrue(self.resource_records('network', net['resource_id']))
        proc = self.manage('jobs', 'purge')
        self.assertEqual(2, proc.returncode)
        self.assertIn('--older-than', proc.stderr)

    def test_cast_from_stdin_and_from_a_file(self):
        first, second = jobs.network(), jobs.network()
        sent = self.manage_json('cast', '-', stdin=json.dumps([first,
                                                               second]))
        self.assertEqual([first['id'], second['id']],
                         [row['id'] for row in sent])
        path = os.path.join(self.tmp, 'job.json')
        third = jobs.network()
        with open(path, 'w') as f:
            json.dump(third, f)
        self.assertEqual([third['id']], [
            row['id'] for row in self.manage_json('cast', path)])
        ids = [first['id'], second['id'], third['id']]
        self.assertEqual(dict.fromkeys(ids, 'COMPLETED'),
                         self.wait_final(ids))
        self.assertFails(self.manage('cast', '-', stdin='{"id": '),
                         '- is not JSON')
        self.assertFails(self.manage('cast', '-', stdin='[{}, 3]'),
                         'item 1 is not a JSON object')

    def test_status(self):
        done = jobs.network()
        waiting = jobs.network(dependency=['never-sent'])
        self.cast(done, waiting)
        self.wait_final([done['id']])
        services.wait_for(lambda: self.etcd.get(store.claim_key(
            waiting['id'])), 10, what='the claim of the waiting job')
        status = self.manage_json('status')
        host = base.base.CONF.host
        self.assertEqual([host], status['agents'])
        self.assertEqual(
            (1, 1, 1, 0, 0, {host: 1}),
            (status['agents_alive'], status['jobs_pending'],
             status['jobs_completed'], status['jobs_failed'],
             status['jobs_superseded'], status['unfinished_by_owner']))
        table = self.manage('status')
        self.assertEqual(0, table.returncode, table.stderr)
        self.assertIn('%s=1' % host, table.stdout)


class TestAgentProcesses(ManageTestCase):
    """Two esi-agent processes: a retried job is run by one of them."""

    def test_retry_and_status(self):
        agents = [agent_process.AgentProcess(self, name, self.tmp,
                                             self.template_dir,
                                             dependency_timeout=2)
                  for name in ('a', 'b')]
        hosts = sorted(agent.host for agent in agents)
        services.wait_for(
            lambda: self.manage_json('status')['agents'] == hosts, 30, 0.2,
            'both agents in the group')
        late = jobs.network()
        net = jobs.network(dependency=[late['id']])
        self.cast(net)
        self.assertEqual({net['id']: 'FAILED'}, self.wait_final([net['id']]))
        self.cast(late)
        self.assertEqual({late['id']: 'COMPLETED'},
                         self.wait_final([late['id']]))

        self.assertEqual([{'id': net['id'], 'state': 'PENDING'}],
                         self.manage_json('jobs', 'retry', net['id']))
        self.assertEqual({net['id']: 'COMPLETED'},
                         self.wait_final([net['id']]))
        status = self.manage_json('status')
        self.assertEqual((hosts, 0, 2, 0), (
            status['agents'], status['jobs_pending'],
            status['jobs_completed'], status['jobs_failed']))
        # One of them saw it put back and ran it again.
        ran = [agent.host for agent in agents
               if 'Job %s: taking it over' % net['id'] in agent.log()]
        self.assertEqual(1, len(ran), ran)
        log = [agent.log() for agent in agents if agent.host in ran][0]
        self.assertIn('Job %s was put back to PENDING' % net['id'], log)


class TestUnreachable(ManageTestCase):
    """Clear one-line errors, in bounded time, when a service is down."""

    def assertQuickFailure(self, args, message, **kwargs):
        start = time.monotonic()
        proc = self.manage('--timeout', '2', *args, **kwargs)
        self.assertLess(time.monotonic() - start, 30)
        self.assertFails(proc, message)

    def test_etcd_down(self):
        port = services.free_port()
        conf = self.write_config('down.conf', etcd_port=port)
        for args in (['jobs', 'list'], ['status'], ['jobs', 'show', 'x'],
                     ['jobs', 'purge', '--older-than', '0']):
            self.assertQuickFailure(
                args, 'Cannot reach etcd at http://127.0.0.1:%d' % port,
                conf=conf)

    def test_bus_down(self):
        conf = self.write_config(
            'down.conf', transport_url='rabbit://guest:guest@127.0.0.1:%d/'
            % services.free_port())
        self.assertQuickFailure(['cast', '-'], 'Cannot reach the message bus',
                                conf=conf, stdin=json.dumps(jobs.network()))

    def test_missing_config_file(self):
        self.assertFails(self.manage('jobs', 'list', conf=os.path.join(
            self.tmp, 'missing.conf')), 'missing.conf')
