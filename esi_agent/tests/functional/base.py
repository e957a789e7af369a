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
"""Base of the tests that run the agent in-process against real etcd and
real RabbitMQ, with the Heat stand-in of :mod:`esi_agent.tests.fakes`.
"""

import json
import uuid

from oslo_messaging import conffixture as messaging_conffixture

from esi_agent import cmd  # noqa: F401  (selects the threading backend)
from esi_agent import etcd
from esi_agent.jobs import store
from esi_agent import records
from esi_agent import rpc
from esi_agent import rpcapi
from esi_agent import service
from esi_agent.tests import base
from esi_agent.tests.fakes import heat_api
from esi_agent.tests import services

FINAL = store.FINAL_STATUSES


class FunctionalTestCase(base.TestCase):
    """Real etcd, real RabbitMQ, Heat stand-in; one agent per test."""

    def setUp(self):
        super().setUp()
        if not services.rabbit_available():
            self.skipTest('no RabbitMQ answers at %s'
                          % services.TRANSPORT_URL)
        self.etcd_server = services.shared_etcd()
        self.etcd_server.wipe()
        messaging_conf = self.useFixture(
            messaging_conffixture.ConfFixture(base.CONF))
        messaging_conf.transport_url = services.TRANSPORT_URL
        self.topic = 'esi-agent-test-%s' % uuid.uuid4().hex[:12]
        self.heat = self.make_heat()
        self.heat.start()
        self.addCleanup(self.heat.stop)
        self.config(host='agent-%s' % uuid.uuid4().hex[:6])
        self.config(rpc_topic=self.topic, reconcile_interval=0.2,
                    schedule_interval=0.1, group='agent')
        self.config(host='127.0.0.1', port=self.etcd_server.port,
                    retry_timeout=10, group='etcd')
        # Tests of Heat's notifications enable them on a topic or pool of
        # their own; others must not consume the broker's shared queue.
        self.config(auth_type='none', endpoint_override=self.heat.endpoint,
                    api_retry_max_delay=0.2, notifications_enabled=False,
                    group='heat')
        self.addCleanup(rpc.cleanup)
        self.etcd = etcd.EtcdClient(base.CONF)
        self.agents = []

    def make_heat(self):
        return heat_api.FakeHeat()

    def start_agent(self):
        agent = service.AgentService(base.CONF)
        agent.start()
        self.agents.append(agent)
        self.addCleanup(self._stop_agent, agent)
        return agent

    def _stop_agent(self, agent):
        if agent in self.agents:
            self.agents.remove(agent)
            agent.stop()

    def stop_agent(self, agent):
        self._stop_agent(agent)

    def cast(self, *jobs):
        api = rpcapi.AgentAPI()
        for job in jobs:
            api.process_job({}, job)

    # etcd readers

    def job_record(self, job_id):
        return self.etcd.get_json(store.job_key(job_id))

    def job_status(self, job_id):
        record = self.job_record(job_id)
        return record and record['status']

    def wait_final(self, job_ids, timeout=60):
        job_ids = list(job_ids)

        def all_final():
            pending = [j for j in job_ids if self.job_status(j) not in FINAL]
            return not pending

        services.wait_for(all_final, timeout,
                          what='%d jobs to finish' % len(job_ids))
        return {j: self.job_status(j) for j in job_ids}

    def resource_records(self, resource_type, resource_id, revision=None):
        """The three records of a resource.

        :returns: ``{key: (record, mod_revision)}``, at ``revision`` if set.
        """
        keys = (records.heat_stacks_key(resource_type, resource_id),
                records.job_state_key(resource_type, resource_id),
                records.state_key(resource_type, resource_id))
        found = {}
        for key in keys:
            kv = self.etcd.get(key, revision)
            if kv is not None:
                found[key] = (kv.json(), kv.mod_revision)
        return found

    def completion_revision(self, job_id):
        return self.etcd.get(store.job_key(job_id)).mod_revision


def normalise(record):
    """A record with its heat_outputs string decoded, for comparison."""
    record = json.loads(json.dumps(record))
    state = record.get('state')
    if isinstance(state, dict) and isinstance(state.get('heat_outputs'),
                                              str):
        state['heat_outputs'] = json.loads(state['heat_outputs'])
    return record
