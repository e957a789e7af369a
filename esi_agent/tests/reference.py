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
"""Access to the production reference data in ``../shared/reference/``.

The data belongs to the project that steers this one and is never copied
into this repository: tests read it at run time and skip, with a reason that
says so, where it is absent. ``ESI_REFERENCE_DIR`` points elsewhere.
"""

import functools
import json
import os

_REPO_ROOT = os.path.abspath(
    os.path.join(os.path.dirname(__file__), '..', '..'))
DEFAULT_DIR = os.path.join(_REPO_ROOT, '..', 'shared', 'reference')

SKIP_REASON = ('production reference data not found in %s (set '
               'ESI_REFERENCE_DIR to the shared/reference directory); it is '
               'read at run time and is not part of this repository')


def directory():
    return os.path.abspath(os.environ.get('ESI_REFERENCE_DIR', DEFAULT_DIR))


def available():
    return os.path.isfile(os.path.join(directory(), 'job_cases.json'))


def skip_unless_available(testcase):
    """Skip ``testcase`` (a TestCase instance) when the data is absent."""
    if not available():
        testcase.skipTest(SKIP_REASON % directory())


@functools.lru_cache(maxsize=None)
def load(name):
    """Return the parsed JSON file ``name`` of the reference directory."""
    with open(os.path.join(directory(), name), encoding='utf-8') as f:
        return json.load(f)


def job_cases():
    return load('job_cases.json')


def render_cases():
    return load('render_cases.json')


def heat_templates():
    return load('heat_templates.json')


def template_mappings_path():
    return os.path.join(directory(), 'template_mappings.json')


def outputs_before(index):
    """A lookup_outputs that sees the records of earlier production jobs.

    A resource's outputs are those of the latest job_state record that a job
    before position ``index`` of job_cases.json (production order) wrote
    for it.
    """
    def lookup_outputs(resource_type, resource_id):
        key = '/esi-worker/job_state/v2.0/%ss/%s' % (
            resource_type, resource_id)
        for job_case in reversed(job_cases()[:index]):
            record = job_case['expected_records'].get(key)
            if record is not None:
                return record['heat_outputs']
        return None
    return lookup_outputs


def publish_templates(client):
    """Put the production template records at their etcd keys."""
    for key, record in heat_templates().items():
        client.put(key, record)


def use_production_templates(testcase):
    """Give a functional test's agent the production mapping and templates.

    The mapping file goes to ``[templates] mapping_file``, the template
    records to the test's etcd.
    """
    testcase.config(mapping_file=template_mappings_path(),
                    group='templates')
    publish_templates(testcase.etcd)
