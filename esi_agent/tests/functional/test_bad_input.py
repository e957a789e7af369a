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
"""Nothing lost, nothing doubled: the corpus of bad casts of
:mod:`bad_jobs`, cast all at once with valid jobs interleaved, to an agent
on real RabbitMQ and etcd.

Asserted: each job that names a resource ends with the state record its
corpus entry expects (worker_state and error), each cast that names none
is dropped and logged with its reason, the valid jobs complete, all within
a deadline, nothing is logged as an unexpected error, and the agent serves
on, before and after a restart with the corpus in etcd.
"""

import json
import logging
import os
import time

import fixtures
from testtools import content

from esi_agent import conf as esi_conf
from esi_agent.jobs import store
from esi_agent import records
from esi_agent.tests.functional import bad_jobs
from esi_agent.tests.functional import base
from esi_agent.tests.functional import jobs
from esi_agent.tests import services

CONF = esi_conf.CONF

LOG_FORMAT = '%(levelname)s %(name)s %(message)s'

# What the log must never show after bad input.
UNEXPECTED = ('Traceback', 'Unexpected error', 'failed unexpectedly',
              'internal error', 'Exception during message handling',
              'Logging error', 'unreadable stored job')


def _encodable(text):
    try:
        text.encode('utf-8')
    except UnicodeEncodeError:
        return False
    return True


def _job_id(case):
    """The id the job is stored under, or None when it is not stored."""
    job_id = case.job.get('id') if isinstance(case.job, dict) else None
    if (isinstance(job_id, str) and 0 < len(job_id) <= 512
            and _encodable(job_id)):
        return job_id
    return None


class TestBadInput(base.FunctionalTestCase):

    DEPENDENCY_TIMEOUT = 3
    # Seconds within which every cast of the corpus must be dealt with:
    # the dependency timeout and a wide margin for a loaded machine.
    DEADLINE = 45
    # Seconds from its arrival to its end within which each job must end:
    # the jobs that wait for what never comes end after the dependency
    # timeout, the others well before it.
    PER_JOB_DEADLINE = DEPENDENCY_TIMEOUT + 10

    def setUp(self):
        super().setUp()
        self.log = self.useFixture(fixtures.FakeLogger(
            level=logging.DEBUG, format=LOG_FORMAT))
        template_dir = self.useFixture(fixtures.TempDir()).path
        jobs.write_templates(template_dir, **bad_jobs.TEMPLATES)
        mapping_file = os.path.join(template_dir, 'template_mappings.json')
        with open(mapping_file, 'w') as f:
            json.dump({'heat_worker': bad_jobs.MAPPINGS}, f)
        self.config(template_dir=template_dir, mapping_file=mapping_file,
                    group='templates')
        self.config(dependency_timeout=self.DEPENDENCY_TIMEOUT,
                    group='agent')

    def _states(self):
        return {kv.key: kv.json()
                for kv in self.etcd.get_prefix(records.STATE_PREFIX)}

    def _key(self, case):
        return records.state_key(case.job['resource_type'],
                                 case.job['resource_id'])

    def _assert_serves(self):
        good = jobs.network()
        self.cast(good)
        self.assertEqual({good['id']: store.COMPLETED},
                         self.wait_final([good['id']]))

    def test_corpus(self):
        cases = bad_jobs.all_cases('(corpus size only)',
                                   CONF.agent.max_job_size)
        self.assertGreaterEqual(len([c for c in cases if c.error]), 50)
        self.assertEqual(len(cases), len({c.name for c in cases}))

    def test_bad_casts_all_at_once(self):
        agent = self.start_agent()
        network = jobs.network()
        self.cast(network)
        self.wait_final([network['id']])
        cases = bad_jobs.all_cases(network['resource_id'],
                                   CONF.agent.max_job_size)
        recorded = [c for c in cases if c.worker_state != bad_jobs.DROPPED]
        dropped = [c for c in cases if c.worker_state == bad_jobs.DROPPED]
        stats = agent.manager.intake.stats

        started = time.monotonic()
        self.cast(*[c.job for c in cases])

        def missing():
            states = self._states()
            return [c.name for c in recorded if self._key(c) not in states]

        try:
            services.wait_for(
                lambda: not missing() and stats['dropped'] >= len(dropped),
                self.DEADLINE, interval=0.2, what='the whole corpus')
        except services.Timeout:
            self.fail('after %d s, no state record for: %s; %d of %d '
                      'dropped' % (self.DEADLINE, ', '.join(missing()),
                                   stats['dropped'], len(dropped)))
        elapsed = time.monotonic() - started
        self.addDetail('elapsed', content.text_content(
            '%.1f s for %d casts' % (elapsed, len(cases))))

        problems = self._check_records(recorded) + self._check_drops(dropped)
        if problems:
            self.fail('%d of %d casts went wrong:\n%s' % (
                len(problems), len(cases), '\n'.join(problems)))
        self.assertEqual(len(dropped), stats['dropped'])
        # One job per resource, and none was taken twice: Heat saw one
        # create per stack.
        self.assertEqual(1, max(self.heat.creates_by_name.values()))

        # A resource whose job failed takes the next one.
        follow_ups = [j for j in map(bad_jobs.follow_up, recorded) if j]
        self.cast(*follow_ups)
        statuses = self.wait_final([j['id'] for j in follow_ups])
        self.assertEqual({store.COMPLETED}, set(statuses.values()),
                         statuses)
        self._assert_serves()
        self._assert_clean_log()
        # The corpus stays in etcd: a restarted agent loads it and serves.
        self.stop_agent(agent)
        self.start_agent()
        self._assert_serves()
        self._assert_clean_log()

    def _check_records(self, cases):
        states = self._states()
        problems = []
        for case in cases:
            record = states[self._key(case)]
            state = record.get('state') or {}
            error = record.get('error') or ''
            if state.get('worker_state') != case.worker_state:
                problems.append('%s: worker_state %s, expected %s (error: '
                                '%r)' % (case.name, state.get('worker_state'),
                                         case.worker_state, error))
            elif case.error not in error or (error and not case.error):
                problems.append('%s: error %r, expected one with %r'
                                % (case.name, error, case.error))
            job_id = _job_id(case)
            if job_id is None:
                continue
            expected = (store.COMPLETED
                        if case.worker_state in bad_jobs.COMPLETED_STATES
                        else store.FAILED)
            stored = self.job_record(job_id)
            if stored['status'] != expected:
                problems.append('%s: job status %s, expected %s'
                                % (case.name, stored['status'], expected))
            took = stored.get('finished_at', 0) - stored['received_at']
            if not 0 <= took <= self.PER_JOB_DEADLINE:
                problems.append('%s: took %.1f s, more than %d s'
                                % (case.name, took, self.PER_JOB_DEADLINE))
        return problems

    def _check_drops(self, cases):
        lines = [line for line in self.log.output.splitlines()
                 if 'Dropped a job' in line]
        problems = []
        for case in cases:
            job_id = case.job.get('id') if isinstance(case.job,
                                                      dict) else None
            marker = ('(job id %r)' % str(job_id)[:128]
                      if isinstance(job_id, str) else '')
            if not any(marker in line and case.error in line
                       for line in lines):
                problems.append('%s: no log line "Dropped a job ... %s: ... '
                                '%s"' % (case.name, marker, case.error))
        return problems

    def _assert_clean_log(self):
        lines = self.log.output.splitlines()
        found = [n for n, line in enumerate(lines)
                 if any(text in line for text in UNEXPECTED)]
        if found:
            self.fail('unexpected errors logged:\n%s' % '\n---\n'.join(
                '\n'.join(lines[max(0, n - 2):n + 12]) for n in found[:3]))
        # Log files are UTF-8: a lone surrogate in a line would break them.
        self.assertTrue(_encodable(self.log.output),
                        'a log line is not valid Unicode')
