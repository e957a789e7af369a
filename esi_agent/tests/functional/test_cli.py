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
"""``esi-agent --config-file X`` as an operator runs it: a real process."""

import os
import signal
import subprocess
import sys

import fixtures

from esi_agent.tests.functional import base
from esi_agent.tests.functional import jobs
from esi_agent.tests import services

CONFIG = '''[DEFAULT]
transport_url = %(transport_url)s
host = %(host)s
[agent]
rpc_topic = %(topic)s
reconcile_interval = 0.2
[etcd]
host = 127.0.0.1
port = %(etcd_port)d
[heat]
auth_type = none
endpoint_override = %(heat)s
[templates]
template_dir = %(template_dir)s
'''


class TestAgentProcess(base.FunctionalTestCase):

    def setUp(self):
        super().setUp()
        tmp = self.useFixture(fixtures.TempDir()).path
        template_dir = os.path.join(tmp, 'templates')
        os.mkdir(template_dir)
        jobs.write_templates(template_dir)
        self.log_path = os.path.join(tmp, 'esi-agent.log')
        self.conf_path = os.path.join(tmp, 'esi-agent.conf')
        with open(self.conf_path, 'w') as f:
            f.write(CONFIG % {
                'transport_url': services.TRANSPORT_URL,
                'host': 'cli-%s' % self.topic[-6:], 'topic': self.topic,
                'etcd_port': self.etcd_server.port,
                'heat': self.heat.endpoint, 'template_dir': template_dir})

    def _log(self):
        with open(self.log_path, errors='replace') as f:
            return f.read()

    def test_runs_in_foreground_and_stops_on_sigterm(self):
        with open(self.log_path, 'wb') as log:
            proc = subprocess.Popen(
                [sys.executable, '-m', 'esi_agent.cmd.agent',
                 '--config-file', self.conf_path],
                stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)
        self.addCleanup(_kill_group, proc)
        services.wait_for(lambda: 'serving topic %s' % self.topic
                          in self._log(), 30, 0.1, 'the agent to serve')
        net = jobs.network()
        self.cast(net)
        self.assertEqual({net['id']: 'COMPLETED'},
                         self.wait_final([net['id']]))
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(0, proc.wait(30))
        self.assertIn('stopped', self._log())
        self.assertNotIn('Traceback', self._log())


def _kill_group(proc):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
