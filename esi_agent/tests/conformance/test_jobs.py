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
"""Conformance with production: the 77 jobs of job_cases.json.

Every job of a scenario is cast at once over real RabbitMQ to an agent
backed by real etcd. Heat is the stand-in, replaying each job's recorded
outcome (status, reason, outputs), which it finds by the job tag the agent
puts on the stack. Asserted: the three records each job wrote (read back at
the revision of the job's completion, so later versions do not hide them),
that they share that one revision, and what Heat received for the 40 jobs of
render_cases.json.
"""

import collections
import json
import random

from esi_agent.heat import stacks
from esi_agent import records
from esi_agent.tests.fakes import heat_api
from esi_agent.tests.functional import base
from esi_agent.tests import reference

SCENARIOS = ('common_function_gateway', 'load_balancer', 'logical_network',
             'vpn_gateway')


def _scenario(case):
    return case['scenario'].split('/')[0]


class ReplayHeat(object):
    """Outcome policy of the Heat stand-in: what production recorded."""

    def __init__(self, cases):
        self._by_tag = {}
        for case in cases:
            job = case['job']
            stack = case['expected_records'][records.heat_stacks_key(
                job['resource_type'], job['resource_id'])]
            self._by_tag[stacks.job_tag(job['id'])] = stack

    def __call__(self, operation):
        if operation.action == 'DELETE':
            return heat_api.Outcome(status='COMPLETE')
        tags = [t for t in operation.tags if t.startswith('esi-job-')]
        stack = self._by_tag[tags[0]]
        return heat_api.Outcome(
            status=stack['stack_status'].split('_', 1)[1],
            reason=stack['status_reason'],
            outputs=stack['output'])


class ConformanceBase(base.FunctionalTestCase):

    def setUp(self):
        reference.skip_unless_available(self)
        self.cases = reference.job_cases()
        super().setUp()
        reference.use_production_templates(self)
        self.start_agent()

    def make_heat(self):
        return heat_api.FakeHeat(outcome=ReplayHeat(reference.job_cases()))


class TestProductionOrder(ConformanceBase):
    """Each scenario cast at once, in production order."""

    def _run_scenario(self, name):
        cases = [c for c in self.cases if _scenario(c) == name]
        self.cast(*[c['job'] for c in cases])
        statuses = self.wait_final([c['job']['id'] for c in cases])
        self.assertEqual({'COMPLETED'}, set(statuses.values()), statuses)
        for case in cases:
            self._assert_records(case)
        self._assert_heat_requests(cases)
        return cases

    def _assert_records(self, case):
        job = case['job']
        revision = self.completion_revision(job['id'])
        found = self.resource_records(job['resource_type'],
                                      job['resource_id'], revision)
        self.assertEqual(
            {k: base.normalise(v) for k, v in
             case['expected_records'].items()},
            {k: base.normalise(v) for k, (v, _rev) in found.items()},
            'records of job %s' % job['id'])
        self.assertEqual(
            {revision}, {rev for _v, rev in found.values()},
            'the three records of job %s were not written in its '
            'completion transaction' % job['id'])

    def _assert_heat_requests(self, cases):
        by_tag = collections.defaultdict(list)
        for operation in self.heat.operations:
            for tag in operation.tags:
                by_tag[tag].append(operation)
        ids = {c['job']['id'] for c in cases}
        renders = [r for r in reference.render_cases() if r['job_id'] in ids]
        for render in renders:
            ops = by_tag[stacks.job_tag(render['job_id'])]
            self.assertEqual(1, len(ops), render['job_id'])
            op = ops[0]
            self.assertEqual(render['rendered_template'], op.template,
                             'template of %s' % render['job_id'])
            self.assertEqual(render['heat_parameters'], op.parameters,
                             'parameters of %s' % render['job_id'])
            self.assertEqual(render['timeout_mins'], op.timeout_mins)
            self.assertIs(True, op.disable_rollback)
        return len(renders)

    def test_scenarios_cover_every_case(self):
        # The four scenario tests below assert the records of all 77 jobs
        # and what Heat received for all 40 renders.
        self.assertEqual(77, len(self.cases))
        self.assertEqual(set(SCENARIOS), {_scenario(c) for c in self.cases})
        ids = {c['job']['id'] for c in self.cases}
        renders = reference.render_cases()
        self.assertEqual(40, len(renders))
        self.assertTrue(all(r['job_id'] in ids for r in renders))

    def test_common_function_gateway(self):
        self._run_scenario('common_function_gateway')

    def test_load_balancer(self):
        self._run_scenario('load_balancer')

    def test_logical_network(self):
        self._run_scenario('logical_network')

    def test_vpn_gateway(self):
        self._run_scenario('vpn_gateway')

    def test_one_create_per_stack(self):
        for name in SCENARIOS:
            cases = [c for c in self.cases if _scenario(c) == name]
            self.cast(*[c['job'] for c in cases])
        self.wait_final([c['job']['id'] for c in self.cases])
        self.assertEqual(1, max(self.heat.creates_by_name.values()))


class TestShuffledOrder(ConformanceBase):
    """All 77 jobs cast at once, shuffled: final records as in production.

    The final records of every resource are those of its last production
    job.
    When a modify arrives before its create it converges by creating the
    stack, so Heat's action (CREATE/UPDATE) may differ from production;
    everything else must be equal.
    """

    SEED = 20261204

    def test_final_state(self):
        jobs = [c['job'] for c in self.cases]
        random.Random(self.SEED).shuffle(jobs)
        self.cast(*jobs)
        statuses = self.wait_final([j['id'] for j in jobs], timeout=120)
        self.assertNotIn('FAILED', statuses.values(), statuses)
        last = {}
        for case in self.cases:
            job = case['job']
            last[(job['resource_type'], job['resource_id'])] = case
        for (rtype, rid), case in last.items():
            found = self.resource_records(rtype, rid)
            expected = {k: _without_heat_action(base.normalise(v))
                        for k, v in case['expected_records'].items()}
            actual = {k: _without_heat_action(base.normalise(v))
                      for k, (v, _rev) in found.items()}
            self.assertEqual(expected, actual,
                             'final records of %s %s (seed %d)'
                             % (rtype, rid, self.SEED))


def _without_heat_action(record):
    record = json.loads(json.dumps(record))
    for holder in (record, record.get('state') or {}):
        for field in ('stack_status', 'orchestration_state'):
            if isinstance(holder.get(field), str):
                holder[field] = holder[field].split('_', 1)[-1]
    if 'status_reason' in record:
        record['status_reason'] = record['status_reason'].replace(
            'UPDATE', 'CREATE')
    return record
