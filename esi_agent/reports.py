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
"""Guru Meditation Reports (oslo.reports) of a running agent.

``kill -USR2 <pid>`` makes the process write a report: its threads with
their stacks, its configuration (secrets masked) and an ``esi-agent``
section with the agent's jobs. The agent's work is done in the worker
process that the ``esi-agent`` process (oslo.service) forks; the report of
the parent says so. A report goes to standard error, or to a file
``esi-agent-<pid>_gurumeditation_<time>`` in ``[oslo_reports] log_dir``.
"""

import os

from oslo_reports import guru_meditation_report as gmr
from oslo_reports.models import with_default_views as mwdv

from esi_agent import version

# In-flight jobs listed by name in a report, at most.
MAX_LISTED = 100


class PackageVersion(object):
    """What the report's Package section asks of a version object."""

    def vendor_string(self):
        return 'OpenStack'

    def product_string(self):
        return 'esi-agent'

    def version_string_with_package(self):
        return version.version_info.version_string()


class AgentReport(gmr.TextGuruMeditation):
    """The text report, named after the process that writes it.

    The parent process and its worker share the signal handler (set up
    before the fork): the pid in the file name keeps their reports apart.
    """

    @classmethod
    def handle_signal(cls, version, service_name, log_dir, frame):
        super().handle_signal(version, '%s-%d' % (service_name, os.getpid()),
                              log_dir, frame)


def setup(conf, agent_service):
    """Write a report on SIGUSR2, with the section of ``agent_service``."""
    AgentReport.register_section('esi-agent', JobsSection(agent_service))
    AgentReport.setup_autorun(PackageVersion(), service_name='esi-agent',
                              conf=conf)


class JobsSection(object):
    """The generator of the ``esi-agent`` section of a report."""

    def __init__(self, agent_service):
        self._service = agent_service

    def __call__(self):
        service = self._service
        if not service.running:
            return mwdv.ModelWithDefaultViews({
                'process': 'the esi-agent parent process: the jobs run in '
                           'its worker process; signal that one for them'})
        runner = service.manager.runner
        # The in-flight jobs: those whose stacks Heat is building.
        in_flight = sorted(entry.id for entry in runner._active())
        listed = in_flight[:MAX_LISTED]
        if len(in_flight) > MAX_LISTED:
            listed.append('... and %d more' % (len(in_flight) - MAX_LISTED))
        return mwdv.ModelWithDefaultViews({
            'host': service.host,
            'agents alive': service.manager.coordinator.members(),
            'jobs by state': dict(runner.index.count_by_status()),
            'jobs in flight': listed,
            'counters': service.stats(),
        })
