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
    keyword arguments are ``[agent]`` options. The process is SIGKILLed
    at the end of the test if it still runs.
    """

    def __init__(self, test, name, directory, template_dir, **agent_options):
        self.host = '%s-%s' % (test.topic[-6:], name)
        self.log_path = os.path.join(directory, '%s.log' % name)
        conf_path = os.path.join(directory, '%s.conf' % name)
        agent_options.setdefault('reconcile_interval', 0.2)
        with open(conf_path, 'w') as f:
            f.write(CONFIG % {
                'transport_url': services.TRANSPORT_URL, 'host': self.host,
                'topic': test.topic,
                'agent_options': '\n'.join(
                    '%s = %s' % item for item in sorted(
                        agent_options.items())),
                'etcd_port': test.etcd_server.port,
                'heat': test.heat.endpoint, 'template_dir': template_dir})
        with open(self.log_path, 'wb') as log:
            self.proc = subprocess.Popen(
                [sys.executable, '-m', 'esi_agent.cmd.agent',
                 '--config-file', conf_path],
                stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)
        test.addCleanup(self.kill)

    def log(self):
        with open(self.log_path, errors='replace') as f:
            return f.read()

    def serving(self):
        return 'serving topic' in self.log()

    def kill(self):
        """SIGKILL the agent and its worker process: no clean up at all."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
