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
"""oslo.messaging plumbing: transport, serializer, clients and servers."""

from oslo_context import context as oslo_context
import oslo_messaging as messaging
from oslo_messaging.rpc import dispatcher

TRANSPORT = None


class RequestContextSerializer(messaging.Serializer):
    """Carries an oslo.context RequestContext over the bus."""

    def __init__(self, base=None):
        self._base = base or messaging.NoOpSerializer()

    def serialize_entity(self, context, entity):
        return self._base.serialize_entity(context, entity)

    def deserialize_entity(self, context, entity):
        return self._base.deserialize_entity(context, entity)

    def serialize_context(self, context):
        if context is None:
            return {}
        if isinstance(context, dict):
            return context
        return context.to_dict()

    def deserialize_context(self, context):
        return oslo_context.RequestContext.from_dict(context or {})


def init(conf):
    """Create the RPC transport from ``[DEFAULT] transport_url``."""
    global TRANSPORT
    if TRANSPORT is None:
        TRANSPORT = messaging.get_rpc_transport(conf)
    return TRANSPORT


def cleanup():
    global TRANSPORT
    if TRANSPORT is not None:
        TRANSPORT.cleanup()
        TRANSPORT = None


def get_client(conf, target, version_cap=None):
    return messaging.get_rpc_client(
        init(conf), target, version_cap=version_cap,
        serializer=RequestContextSerializer(messaging.JsonPayloadSerializer()))


def get_server(conf, target, endpoints):
    return messaging.get_rpc_server(
        init(conf), target, endpoints,
        serializer=RequestContextSerializer(messaging.JsonPayloadSerializer()),
        access_policy=dispatcher.DefaultRPCAccessPolicy)
