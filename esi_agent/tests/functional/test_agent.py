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
"""The agent against real etcd and RabbitMQ: duplicates, stale versions,
restart, malformed jobs."""

import copy

import fixtures

from esi_agent.heat import stacks
from esi_agent import records
from esi_agent.tests.fakes import heat_api
from esi_agent.tests.functional import base
from esi_agent.tests.functional import jobs
from esi_agent.tests import services


class AgentTestCase(base.FunctionalTestCase):

    def setUp(self):
        super().setUp()
        self.template_dir = self.useFixture(fixtures.TempDir()).path
        jobs.write_templates(self.template_dir, **self.extra_templates())
        self.config(template_dir=self.template_dir, group='templates')

    def extra_templates(self):
        return {}

    def state(self, job):
        return self.etcd.get_json(records.state_key(job['resource_type'],
                                                    job['resource_id']))


class TestDuplicatesAndVersions(AgentTestCase):

    def test_duplicate_cast_is_processed_once(self):
        agent = self.start_agent()
        net = jobs.network()
        self.cast(net, net)
        self.wait_final([net['id']])
        services.wait_for(
            lambda: agent.manager.intake.stats['duplicates'] == 1,
            what='the second copy to be seen as a duplicate')
        self.cast(net)
        services.wait_for(
            lambda: agent.manager.intake.stats['duplicates'] == 2,
            what='a copy cast after completion to be ignored')
        self.assertEqual(1, self.heat.calls['create'])
        self.assertEqual(0, self.heat.calls['update'])
        self.assertEqual('CREATE_COMPLETED',
                         self.state(net)['state']['worker_state'])

    def test_stale_version_is_not_written(self):
        self.start_agent()
        rid = 'b5f0e8a4-7a1e-4d1e-9c55-0d7b8a3f0001'
        v2 = jobs.network(rid=rid, version=2, action='modify')
        self.cast(v2)
        self.wait_final([v2['id']])
        v1 = jobs.network(rid=rid, version=1)
        self.cast(v1)
        self.assertEqual({v1['id']: 'SUPERSEDED'},
                         self.wait_final([v1['id']]))
        state = self.state(v2)
        self.assertEqual(2, state['version'])
        self.assertEqual('MODIFY_COMPLETED', state['state']['worker_state'])
        # Heat saw the modify (converged into a create) and nothing of v1.
        self.assertEqual(1, len(self.heat.operations))

    def test_versions_of_one_resource_run_in_order(self):
        self.start_agent()
        rid = 'b5f0e8a4-7a1e-4d1e-9c55-0d7b8a3f0002'
        # All three wait for a gate job cast last, so that they are all
        # known when the first can run, whatever order they arrive in.
        gate = jobs.network()
        versions = [jobs.network(rid=rid, version=1,
                                 dependency=[gate['id']])] + [
            jobs.network(rid=rid, version=v, action='modify',
                         dependency=[gate['id']])
            for v in (3, 2)]
        self.cast(*versions)
        services.wait_for(lambda: all(self.job_record(j['id'])
                                      for j in versions),
                          what='the three versions to be stored')
        self.cast(gate)
        self.wait_final([j['id'] for j in versions])
        name = stacks.stack_name('network', rid)
        self.assertEqual(
            [1, 2, 3],
            [op.parameters['version'] for op in self.heat.operations
             if op.stack_name == name])
        self.assertEqual(3, self.state(versions[0])['version'])


class TestRestart(AgentTestCase):

    def make_heat(self):
        return heat_api.FakeHeat(stack_time=0.5)

    def test_restart_in_the_middle_of_a_scenario(self):
        agent = self.start_agent()
        net = jobs.network()
        ports = [jobs.port(net['resource_id']) for _ in range(3)]
        self.cast(net, *ports)
        services.wait_for(lambda: self.heat.calls['create'] >= 1,
                          what='the network stack to be created')
        self.stop_agent(agent)
        self.start_agent()
        self.wait_final([j['id'] for j in [net] + ports])
        for job in [net] + ports:
            self.assertEqual('CREATE_COMPLETED',
                             self.state(job)['state']['worker_state'])
            name = stacks.stack_name(job['resource_type'],
                                     job['resource_id'])
            self.assertEqual(1, self.heat.creates_by_name[name], name)
        net_id = self.etcd.get_json(records.job_state_key(
            'network', net['resource_id']))['heat_outputs']
        self.assertIn('id', [o['output_key'] for o in net_id])


BAD_TEMPLATE = '''heat_template_version: 2018-08-31
resources:
{% for x in jinja_items %}
  r{{ x.__class__.__mro__ }}:
    type: OS::Heat::None
{% endfor %}
'''


class TestMalformedJobs(AgentTestCase):

    def extra_templates(self):
        return {'bad_type': BAD_TEMPLATE}

    def _assert_failed(self, job, worker_state, *fragments):
        services.wait_for(lambda: self.state(job), what='a state record')
        state = self.state(job)
        self.assertEqual(worker_state, state['state']['worker_state'])
        for fragment in fragments:
            self.assertIn(fragment, state['error'])

    def test_malformed_jobs_fail_and_agent_keeps_serving(self):
        agent = self.start_agent()
        missing_version = jobs.network()
        del missing_version['version']
        wrong_type = jobs.network()
        wrong_type['params'] = {'name': 'x'}
        unknown_action = jobs.network(action='explode')
        sandbox = jobs.job('bad_type', params=[
            jobs.value('jinja_items', [1])])
        missing_output = jobs.port(
            'b5f0e8a4-7a1e-4d1e-9c55-0d7b8a3f0003')
        missing_output['params'][-2]['value']['output_key'] = 'nope'
        referenced = jobs.network(rid='b5f0e8a4-7a1e-4d1e-9c55-0d7b8a3f0003')
        garbage = ['not', 'a', 'job']
        self.cast(garbage, missing_version, wrong_type, unknown_action,
                  sandbox, referenced, missing_output)
        self._assert_failed(missing_version, 'CREATE_FAILED',
                            "missing required field 'version'")
        self._assert_failed(wrong_type, 'CREATE_FAILED',
                            'params: expected array, got object')
        self._assert_failed(unknown_action, 'CREATE_FAILED', 'action: must '
                            "be one of 'create'")
        self._assert_failed(sandbox, 'CREATE_FAILED', 'bad_type',
                            'unsafe')
        self._assert_failed(missing_output, 'CREATE_FAILED',
                            'virtual_network', "no output 'nope'")
        services.wait_for(
            lambda: agent.manager.intake.stats['dropped'] == 1,
            what='the garbage cast to be dropped')
        good = jobs.network()
        self.cast(good)
        self.assertEqual({good['id']: 'COMPLETED'},
                         self.wait_final([good['id']]))
        self.assertEqual(2, self.heat.calls['create'])

    def test_failed_dependency_fails_dependents(self):
        self.start_agent()
        net = jobs.network(params=[jobs.value('jinja_x', None)])
        net = copy.deepcopy(net)
        net['resource_type'] = 'bad_type'
        net['params'].append(jobs.value('jinja_items', [1]))
        dependent = jobs.network(dependency=[net['id']])
        self.cast(dependent, net)
        self._assert_failed(dependent, 'CREATE_FAILED',
                            'Dependency %s failed' % net['id'])
