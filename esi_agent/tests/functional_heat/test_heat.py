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
"""The agent driving a real OpenStack Heat."""

import fixtures

from esi_agent.heat import stacks
from esi_agent import records
from esi_agent.tests.functional import jobs
from esi_agent.tests.functional_heat import base

FAILING_TEMPLATE = '''heat_template_version: 2018-08-31
description: A stack whose only resource fails.
parameters:
  name:
    type: string
  tenant_id:
    type: string
  version:
    type: number
resources:
  broken:
    type: OS::Heat::TestResource
    properties:
      fail: true
      value: { get_param: name }
'''

SLOW_TEMPLATE = '''heat_template_version: 2018-08-31
description: A stack that takes longer than its timeout.
parameters:
  name:
    type: string
  tenant_id:
    type: string
  version:
    type: number
resources:
  slow:
    type: OS::Heat::TestResource
    properties:
      wait_secs: 600
      value: { get_param: name }
'''


def network_job(rid=None, version=1, action='create', admin_state_up=True):
    """A network job with the params of a production network job."""
    job = jobs.job('network', rid=rid, version=version, action=action)
    rid = job['resource_id']
    job['params'] = [jobs.value('uuid', rid), jobs.value('name', rid),
                     jobs.value('heat_timeout', '3'),
                     jobs.value('admin_state_up', admin_state_up)]
    return job


def _outputs(record):
    return {o['output_key']: o['output_value'] for o in record['output']}


class TestScenario(base.HeatTestCase):

    def setUp(self):
        super().setUp()
        self.start_agent()

    def records_of(self, job):
        found = self.resource_records(job['resource_type'],
                                      job['resource_id'])
        return {key.split('/')[1 if key.startswith('/state') else 2]:
                value for key, (value, _rev) in found.items()}

    def test_demo_scenario_end_to_end(self):
        scenario = base.demo_jobs()
        self.cast(*scenario)
        statuses = self.wait_final([j['id'] for j in scenario], timeout=120)
        self.assertEqual({'COMPLETED'}, set(statuses.values()), statuses)
        by_type = {}
        for job in scenario:
            by_type.setdefault(job['resource_type'], job)
        network_id = _outputs(self.records_of(by_type['network'])[
            'heat_stacks'])['id']
        subnet_id = _outputs(self.records_of(by_type['subnet'])[
            'heat_stacks'])['id']
        last = {(j['resource_type'], j['resource_id']): j for j in scenario}
        for job in last.values():
            recs = self.records_of(job)
            name = stacks.stack_name(job['resource_type'],
                                     job['resource_id'])
            stack = self.heat.stack(name)
            self.assertEqual(name, recs['heat_stacks']['stack_id'])
            self.assertEqual(stack.stack_status,
                             recs['heat_stacks']['stack_status'])
            self.assertEqual(stack.stack_status,
                             recs['job_state']['orchestration_state'])
            self.assertEqual(job['version'], recs['state']['version'])
            self.assertEqual('', recs['state']['error'])
            if job['resource_type'] == 'port':
                # output_key chains, resolved from the real outputs of the
                # network and subnet stacks.
                self.assertEqual(network_id,
                                 stack.parameters['virtual_network'])
                self.assertIn(subnet_id, self.heat.client.stacks.template(
                    stack.id)['resources']['instance_ip_0']['properties']
                    ['value']['subnet_id'])
        port_v2 = [j for j in scenario if j['action'] == 'modify'][0]
        state = self.records_of(port_v2)['state']
        self.assertEqual('MODIFY_COMPLETED', state['state']['worker_state'])
        self.assertEqual('UPDATE_COMPLETE',
                         state['state']['orchestration_state'])


class TestLifecycle(base.HeatTestCase):

    def setUp(self):
        super().setUp()
        self.start_agent()

    def _state(self, job):
        return self.etcd.get_json(records.state_key(job['resource_type'],
                                                    job['resource_id']))

    def _stack_record(self, job):
        return self.etcd.get_json(records.heat_stacks_key(
            job['resource_type'], job['resource_id']))

    def test_modify_then_logical_delete(self):
        create = network_job()
        rid = create['resource_id']
        modify = network_job(rid, 2, 'modify', admin_state_up=False)
        self.cast(create, modify)
        self.wait_final([create['id'], modify['id']], timeout=60)
        stack = self._stack_record(modify)
        self.assertEqual('UPDATE_COMPLETE', stack['stack_status'])
        self.assertEqual('MODIFY_COMPLETED',
                         self._state(modify)['state']['worker_state'])
        self.assertEqual(rid, _outputs(stack)['id'])

        delete = network_job(rid, 3, 'logical_delete')
        self.cast(delete)
        self.wait_final([delete['id']], timeout=60)
        self.assertEqual(
            {'stack_id': '', 'output': [], 'status_reason': '',
             'stack_status': 'DELETE_COMPLETE'},
            {k: self._stack_record(delete)[k] for k in (
                'stack_id', 'output', 'status_reason', 'stack_status')})
        state = self._state(delete)
        self.assertEqual('DELETE_COMPLETED', state['state']['worker_state'])
        self.assertEqual('[]', state['state']['heat_outputs'])
        self.assertEqual([], self.heat.stacks_named(
            stacks.stack_name('network', rid)))

    def test_create_of_an_existing_stack_is_not_duplicated(self):
        job = network_job()
        name = stacks.stack_name('network', job['resource_id'])
        with open(base.TEMPLATE_DIR + '/network.yaml') as f:
            template = f.read()
        self.heat.client.stacks.create(
            stack_name=name, template=template, parameters={
                'uuid': job['resource_id'], 'name': 'old',
                'admin_state_up': True},
            tags='esi-agent')
        self.cast(job)
        self.assertEqual({job['id']: 'COMPLETED'},
                         self.wait_final([job['id']], timeout=60))
        self.assertEqual(1, len(self.heat.stacks_named(name)))
        # It converged: the existing stack was updated to the job's.
        self.assertEqual('UPDATE_COMPLETE',
                         self._stack_record(job)['stack_status'])
        self.assertEqual(job['resource_id'],
                         self.heat.stack(name).parameters['name'])

    def test_stack_this_job_created_is_adopted(self):
        job = network_job()
        name = stacks.stack_name('network', job['resource_id'])
        with open(base.TEMPLATE_DIR + '/network.yaml') as f:
            template = f.read()
        # As if the agent died right after Heat accepted its create.
        self.heat.client.stacks.create(
            stack_name=name, template=template, parameters={
                'uuid': job['resource_id'], 'name': job['resource_id'],
                'admin_state_up': True},
            tags='esi-agent,%s' % stacks.job_tag(job['id']))
        self.cast(job)
        self.wait_final([job['id']], timeout=60)
        self.assertEqual(1, len(self.heat.stacks_named(name)))
        self.assertEqual('CREATE_COMPLETE',
                         self._stack_record(job)['stack_status'])


class TestFailures(base.HeatTestCase):

    def setUp(self):
        super().setUp()
        template_dir = self.useFixture(fixtures.TempDir()).path
        jobs.write_templates(template_dir, failing=FAILING_TEMPLATE,
                             slow=SLOW_TEMPLATE)
        self.config(template_dir=template_dir, mapping_file=None,
                    group='templates')
        self.start_agent()

    def test_failing_resource_gives_create_failed_with_heats_reason(self):
        job = jobs.job('failing')
        self.cast(job)
        self.assertEqual({job['id']: 'FAILED'},
                         self.wait_final([job['id']], timeout=60))
        state = self.etcd.get_json(records.state_key('failing',
                                                     job['resource_id']))
        self.assertEqual('CREATE_FAILED', state['state']['worker_state'])
        self.assertEqual('CREATE_FAILED',
                         state['state']['orchestration_state'])
        self.assertIn('Test Resource failed', state['error'])
        stack = self.etcd.get_json(records.heat_stacks_key(
            'failing', job['resource_id']))
        self.assertEqual(state['error'], stack['status_reason'])

    def test_heat_timeout_expires(self):
        job = jobs.job('slow', params=[jobs.value('heat_timeout', '1')])
        self.cast(job)
        self.assertEqual({job['id']: 'FAILED'},
                         self.wait_final([job['id']], timeout=150))
        state = self.etcd.get_json(records.state_key('slow',
                                                     job['resource_id']))
        self.assertEqual('CREATE_FAILED', state['state']['worker_state'])
        self.assertIn('timed out', state['error'].lower())
        stack = self.heat.stack(stacks.stack_name('slow',
                                                  job['resource_id']))
        self.assertEqual(1, stack.timeout_mins)
