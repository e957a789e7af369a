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

"""Replay the production renders of the reference data.

For each case of ``render_cases.json``, the job of ``job_cases.json`` goes
through template choice, param resolution and rendering, and must give what
production sent to Heat, byte for byte.
"""

import testscenarios

from esi_agent.render import mapping
from esi_agent.render import params
from esi_agent.render import templates
from esi_agent.tests import base
from esi_agent.tests import reference


load_tests = testscenarios.load_tests_apply_scenarios


def _scenarios():
    if not reference.available():
        return []
    return [(case['job_id'], {'case': case})
            for case in reference.render_cases()]


def _job_index(job_id):
    """Return the position of a job in production order."""
    for index, job_case in enumerate(reference.job_cases()):
        if job_case['job']['id'] == job_id:
            return index
    raise AssertionError('job %s is not in job_cases.json' % job_id)


class TestRenders(base.TestCase):

    scenarios = _scenarios()

    def setUp(self):
        super().setUp()
        reference.skip_unless_available(self)
        self.index = _job_index(self.case['job_id'])
        self.job = reference.job_cases()[self.index]['job']

    def _resolve(self):
        return params.resolve(self.job, reference.outputs_before(self.index))

    def test_template_id(self):
        mappings = mapping.load_mappings(reference.template_mappings_path())
        self.assertEqual(
            self.case['template_id'],
            mapping.template_id(mappings, self.job['resource_type'],
                                self.job['resource_input']))

    def test_params(self):
        resolved = self._resolve()
        self.assertEqual(self.case['heat_parameters'],
                         resolved.heat_parameters)
        self.assertEqual(self.case['jinja_parameters'],
                         resolved.jinja_parameters)
        self.assertEqual(self.case['timeout_mins'], resolved.timeout_mins)

    def test_tenant_id(self):
        key = '/esi-worker/heat_stacks/v2.0/%ss/%s' % (
            self.job['resource_type'], self.job['resource_id'])
        records = reference.job_cases()[self.index]['expected_records']
        resolved = self._resolve()
        self.assertEqual(records[key]['tenant_id'], resolved.tenant_id)

    def test_rendered_template(self):
        source = templates.TemplateSource(reference.heat_templates().get,
                                          template_dir=None)
        template_id = self.case['template_id']
        resolved = self._resolve()
        rendered = templates.render(template_id, source.get(template_id),
                                    resolved.jinja_parameters)
        self.assertEqual(self.case['rendered_template'], rendered)
        templates.check_rendered(template_id, rendered)
