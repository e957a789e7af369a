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


"""The demo Heat templates of ``etc/esi-agent/templates``.

They stand in for the production templates on a plain OpenStack Heat, with
Keystone-free resources only. Each job of the reference data
(``job_cases.json``, in production order) picks its template with the
reference mapping, resolves its params against the outputs that earlier jobs
recorded, and renders the demo template. The result must be a template a
plain Heat accepts for that job's parameters and whose outputs are the ones
production recorded, so that ``output_key`` params chain as they did.
"""

import datetime
import os

import testscenarios
import yaml

from esi_agent.render import mapping
from esi_agent.render import params
from esi_agent.render import templates
from esi_agent.tests import base
from esi_agent.tests import reference

load_tests = testscenarios.load_tests_apply_scenarios

TEMPLATE_DIR = os.path.abspath(os.path.join(
    os.path.dirname(__file__), '..', '..', '..', 'etc', 'esi-agent',
    'templates'))

# Resources that a plain Heat runs without Keystone or other services.
ALLOWED_RESOURCE_TYPES = frozenset([
    'OS::Heat::None',
    'OS::Heat::RandomString',
    'OS::Heat::TestResource',
    'OS::Heat::Value',
])

MIN_TEMPLATE_VERSION = '2018-08-31'

DELETE_ACTIONS = ('delete', 'logical_delete')


def _job_scenarios():
    if not reference.available():
        return []
    return [(job_case['job']['id'], {'index': index})
            for index, job_case in enumerate(reference.job_cases())]


def _template_id(job):
    mappings = mapping.load_mappings(reference.template_mappings_path())
    return mapping.template_id(mappings, job['resource_type'],
                               job['resource_input'])


def _load(template_id, text):
    templates.check_rendered(template_id, text)
    return yaml.safe_load(text)


def _version(template):
    version = template.get('heat_template_version')
    if isinstance(version, datetime.date):
        return version.isoformat()
    return str(version)


class TestDemoTemplatesForJobs(base.TestCase):
    """Each reference job against the demo template its mapping picks."""

    scenarios = _job_scenarios()

    def setUp(self):
        super().setUp()
        reference.skip_unless_available(self)
        self.job_case = reference.job_cases()[self.index]
        self.job = self.job_case['job']
        self.template_id = _template_id(self.job)
        if self.template_id is None:
            self.skipTest('the mapping gives %s no stack' %
                          self.job['resource_type'])
        self.resolved = params.resolve(self.job,
                                       reference.outputs_before(self.index))
        source = templates.TemplateSource(lambda key: None, TEMPLATE_DIR)
        rendered = templates.render(self.template_id,
                                    source.get(self.template_id),
                                    self.resolved.jinja_parameters)
        self.template = _load(self.template_id, rendered)

    def test_header(self):
        self.assertGreaterEqual(_version(self.template), MIN_TEMPLATE_VERSION)
        self.assertIn('esi-agent demo template',
                      self.template.get('description', ''))

    def test_resource_types(self):
        resources = self.template.get('resources') or {}
        self.assertNotEqual({}, resources)
        types = {name: resource.get('type')
                 for name, resource in resources.items()}
        self.assertEqual(
            {}, {name: resource_type
                 for name, resource_type in types.items()
                 if resource_type not in ALLOWED_RESOURCE_TYPES},
            'resources of types a plain Heat without Keystone cannot run')

    def test_sent_parameters_are_declared(self):
        declared = set(self.template.get('parameters') or {})
        sent = set(self.resolved.heat_parameters)
        # Heat rejects a stack with parameters its template lacks (400).
        self.assertEqual(set(), sent - declared,
                         'parameters the job sends that the template lacks')

    def test_required_parameters_are_sent(self):
        declared = self.template.get('parameters') or {}
        required = {name for name, schema in declared.items()
                    if 'default' not in schema}
        sent = set(self.resolved.heat_parameters)
        self.assertEqual(set(), required - sent,
                         'parameters without a default the job does not '
                         'send')

    def test_output_keys(self):
        if self.job['action'] in DELETE_ACTIONS:
            self.skipTest('a deleted stack has no outputs')
        key = '/esi-worker/heat_stacks/v2.0/%ss/%s' % (
            self.job['resource_type'], self.job['resource_id'])
        production = {output['output_key'] for output in
                      self.job_case['expected_records'][key]['output']}
        self.assertEqual(production,
                         set(self.template.get('outputs') or {}))


def _template_scenarios():
    """One scenario per template id, with the first job that uses it."""
    if not reference.available():
        return []
    scenarios = {}
    for index, job_case in enumerate(reference.job_cases()):
        template_id = _template_id(job_case['job'])
        if template_id is not None and template_id not in scenarios:
            scenarios[template_id] = {'template_id': template_id,
                                      'index': index}
    return sorted(scenarios.items())


class TestDemoTemplateParameters(base.TestCase):
    """The demo templates declare the parameters of production's."""

    scenarios = _template_scenarios()

    def setUp(self):
        super().setUp()
        reference.skip_unless_available(self)
        job = reference.job_cases()[self.index]['job']
        jinja = params.resolve(job, reference.outputs_before(self.index)
                               ).jinja_parameters
        demo = templates.TemplateSource(lambda key: None, TEMPLATE_DIR)
        production = templates.TemplateSource(
            reference.heat_templates().get, template_dir=None)
        self.demo = _load(self.template_id, templates.render(
            self.template_id, demo.get(self.template_id), jinja))
        self.production = _load(self.template_id, templates.render(
            self.template_id, production.get(self.template_id), jinja))

    @staticmethod
    def _schemas(template):
        return {name: {key: schema[key] for key in ('type', 'default')
                       if key in schema}
                for name, schema in (template.get('parameters') or
                                     {}).items()}

    def test_same_parameters(self):
        self.assertEqual(self._schemas(self.production),
                         self._schemas(self.demo))

    def test_hidden_parameters_stay_hidden(self):
        hidden = {name for name, schema in
                  (self.production.get('parameters') or {}).items()
                  if schema.get('hidden')}
        demo = self.demo.get('parameters') or {}
        self.assertEqual(set(), {name for name in hidden
                                 if not demo[name].get('hidden')})
