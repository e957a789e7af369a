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
"""The agent manager: the RPC endpoint and the periodic tasks."""

from oslo_log import log as logging
import oslo_messaging as messaging
from oslo_service import periodic_task

from esi_agent import coordination
from esi_agent import etcd
from esi_agent import exception
from esi_agent.heat import client as heat_client
from esi_agent.heat import stacks
from esi_agent.jobs import intake
from esi_agent.jobs import runner
from esi_agent.jobs import store
from esi_agent.render import mapping
from esi_agent.render import templates

LOG = logging.getLogger(__name__)


class AgentManager(periodic_task.PeriodicTasks):
    """Takes jobs from the bus and drives them to their records."""

    target = messaging.Target(version='1.0')

    def __init__(self, host, conf, heat=None):
        super().__init__(conf)
        self.host = host
        self.conf = conf
        # The spacing of the periodic tasks is configuration, read here
        # rather than frozen into the decorators at import time.
        self._periodic_spacing = dict(
            self._periodic_spacing,
            reconcile_stacks=conf.agent.reconcile_interval)
        self.etcd = etcd.EtcdClient(conf)
        self.coordinator = coordination.Coordinator(conf, host, self.etcd)
        job_store = store.JobStore(self.etcd, owner=host,
                                   lease=self.coordinator.lease)
        self.stacks = stacks.Stacks(heat or heat_client.get_client(conf),
                                    conf)
        self.templates = templates.CachedTemplateSource(
            self.etcd, conf.templates.template_dir,
            conf.templates.refresh_interval)
        self.runner = runner.JobRunner(
            conf, job_store, self.stacks, self.templates,
            mapping.load_mappings(conf.templates.mapping_file),
            coordinator=self.coordinator)
        self.intake = intake.Intake(conf, job_store, self.runner)

    def start(self):
        """Join the agents, resume unfinished jobs, start scheduling."""
        self.coordinator.start()
        self.runner.resume()
        self.runner.start()

    def stop(self):
        self.runner.stop()
        # Revoking the lease hands this agent's unfinished jobs to the
        # others at once rather than after lease_ttl.
        self.coordinator.stop()

    def process_job(self, context, job):
        """RPC (cast): take one job. Never raises on bad input."""
        try:
            self.intake.accept(job)
        except exception.EtcdError as e:
            LOG.error('Job %(id)r could not be stored, etcd is unavailable '
                      '(%(err)s); it is lost unless the API sends it again',
                      {'id': _job_id(job), 'err': e})
        except Exception:
            LOG.exception('Unexpected error taking job %r', _job_id(job))

    def periodic_tasks(self, context, raise_on_error=False):
        """Run the periodic tasks that are due; returns the idle time."""
        return self.run_periodic_tasks(context,
                                       raise_on_error=raise_on_error)

    @periodic_task.periodic_task(spacing=2, run_immediately=True)
    def reconcile_stacks(self, context):
        """Finish the jobs whose stacks reached a terminal status."""
        done = self.runner.reconcile()
        if done:
            LOG.debug('Reconcile: %d stacks reached a terminal status', done)


def _job_id(job):
    return str(job.get('id'))[:128] if isinstance(job, dict) else None
