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
"""An ``esi-agent`` running as an operator runs it: its own process."""

import os
import signal
import subprocess
import sys

import fixtures
from testtools import content

from esi_agent.jobs import store
from esi_agent.tests.fakes import heat_api
from esi_agent.tests.functional import base
from esi_agent.tests.functional import jobs
from esi_agent.tests import services

CONFIG = '''[DEFAULT]
transport_url = %(transport_url)s
host = %(host)s
[agent]
rpc_topic = %(topic)s
%(agent_options)s
[etcd]
host = 127.0.0.1
port = %(etcd_port)d
[heat]
auth_type = none
endpoint_override = %(heat)s
[templates]
template_dir = %(template_dir)s
'''


class AgentProcess(object):
    """``python -m esi_agent.cmd.agent --config-file X`` for a test.

    The config points at the test's etcd, topic and Heat stand-in; extra
    keyword arguments are ``[agent]`` options. ``transport_url`` picks
    another broker than the shared one. The process is SIGKILLed
    at the end of the test if it still runs.
    """

    def __init__(self, test, name, directory, template_dir,
                 transport_url=None, **agent_options):
        self.host = '%s-%s' % (test.topic[-6:], name)
        self.log_path = os.path.join(directory, '%s.log' % name)
        conf_path = os.path.join(directory, '%s.conf' % name)
        agent_options.setdefault('reconcile_interval', 0.2)
        with open(conf_path, 'w') as f:
            f.write(CONFIG % {
                'transport_url': transport_url or services.TRANSPORT_URL,
                'host': self.host,
                'topic': test.topic,
                'agent_options': '\n'.join(
                    '%s = %s' % item for item in sorted(
                        agent_options.items())),
                'etcd_port': test.etcd_server.port,
                'heat': test.heat.endpoint, 'template_dir': template_dir})
        self._conf_path = conf_path
        open(self.log_path, 'wb').close()
        self.proc = None
        self.starts = 0
        self.start()
        test.addCleanup(self.kill)

    def start(self):
        """Start the agent (again, after :meth:`kill`: same host)."""
        self.starts += 1
        with open(self.log_path, 'ab') as log:
            self.proc = subprocess.Popen(
                [sys.executable, '-m', 'esi_agent.cmd.agent',
                 '--config-file', self._conf_path],
                stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)

    def log(self):
        with open(self.log_path, errors='replace') as f:
            return f.read()

    def serving(self):
        """Whether the running process (the last one started) serves."""
        return self.log().count('serving topic') >= self.starts

    def kill(self):
        """SIGKILL the agent and its worker process: no clean up at all."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


class AgentProcessTestCase(base.FunctionalTestCase):
    """Agents run as processes, against the Heat stand-in."""

    #: Seconds the stand-in takes to build a stack.
    STACK_TIME = 1.0

    def make_heat(self):
        return heat_api.FakeHeat(stack_time=self.STACK_TIME)

    def setUp(self):
        super().setUp()
        self.tmp = self.useFixture(fixtures.TempDir()).path
        self.template_dir = os.path.join(self.tmp, 'templates')
        os.mkdir(self.template_dir)
        jobs.write_templates(self.template_dir)

    def start_agent_process(self, name='agent', wait=True, **kwargs):
        """An agent process of this test; ``wait`` until it serves."""
        agent = AgentProcess(
            self, name, self.tmp, self.template_dir,
            coordination_group=self.topic, **kwargs)
        self.addOnException(lambda _exc, a=agent: self.addDetail(
            a.host, content.text_content(''.join(
                line for line in a.log().splitlines(True)
                if ' DEBUG ' not in line))))
        if wait:
            services.wait_for(agent.serving, 60, 0.1, 'the agent to serve')
        return agent

    def claims(self):
        """``{job id: agent}`` of the claims in etcd."""
        kvs, _rev = self.etcd.snapshot(store.CLAIMS_PREFIX)
        return {kv.key[len(store.CLAIMS_PREFIX):]: kv.value.decode()
                for kv in kvs}

    def assertAllCompletedOnce(self, made, timeout=120):
        """Every job of ``made`` COMPLETED, one create per stack."""
        try:
            statuses = self.wait_final([j['id'] for j in made],
                                       timeout=timeout)
        except services.Timeout:
            claims = self.claims()
            unfinished = {j['id']: claims.get(j['id']) for j in made
                          if self.job_status(j['id']) not in base.FINAL}
            self.fail('%d jobs unfinished after %s s; their claims: %s'
                      % (len(unfinished), timeout, unfinished))
        self.assertEqual({store.COMPLETED: len(made)},
                         {s: list(statuses.values()).count(s)
                          for s in set(statuses.values())})
        self.assertEqual(1, max(self.heat.creates_by_name.values()))
        self.assertEqual(len(made), len(self.heat.creates_by_name))
