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
"""esi-agent: the agent daemon."""

import sys

from oslo_reports import opts as gmr_opts
from oslo_service import service as os_service

from esi_agent.common import config
from esi_agent import conf as esi_conf
from esi_agent import reports
from esi_agent import service

CONF = esi_conf.CONF


def main():
    gmr_opts.set_defaults(CONF)
    config.prepare(sys.argv[1:])
    agent = service.AgentService(CONF)
    # Guru Meditation Report on SIGUSR2 (oslo.reports).
    reports.setup(CONF, agent)
    launcher = os_service.launch(CONF, agent, restart_method='mutate')
    launcher.wait()


if __name__ == '__main__':
    sys.exit(main())
