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


# esi-agent documentation build configuration (tox -e docs).

# -- General configuration ---------------------------------------------------

extensions = [
    'openstackdocstheme',
    'oslo_config.sphinxext',
]

# openstackdocstheme
openstackdocs_repo_name = 'x/esi-agent'
openstackdocs_pdf_link = False
openstackdocs_use_storyboard = False
openstackdocs_bug_project = 'esi-agent'
openstackdocs_bug_tag = 'doc'
openstackdocs_auto_name = False

source_suffix = '.rst'
master_doc = 'index'
project = 'esi-agent'
copyright = '2026, esi-agent developers'
exclude_patterns = ['build']
pygments_style = 'native'

# -- Options for HTML output -------------------------------------------------

html_theme = 'openstackdocs'
