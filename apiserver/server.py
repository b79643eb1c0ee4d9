"""The composition root: the store, the registry, the watch caches, hooks and controllers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque

from apiserver import admissions, builtins
from apiserver.builtins.core import INITIAL_NAMESPACES, KUBERNETES_SERVICE, allocate_cluster_ip, needs_cluster_ip
from apiserver.conversion import Converter
from apiserver.customresources import CRD_TYPE, CRDController
from apiserver.namespaces import NamespaceController, NamespaceLifecycle
from apiserver.objects import Obj, deep_copy
from apiserver.openapi import OpenAPI
from apiserver.registry import Registry
from apiserver.resources import Ctx, Resources
from apiserver.settings import Settings
from apiserver.watchcache import Caches
from machinery import AlreadyExists, ServiceUnavailable
from storage import Store, open_store

log = logging.getLogger("apiserver")


class ServiceResolver:
    """Where a webhook's service reference is dialled, from `--webhook-service NAMESPACE/NAME[:PORT]=URL`.

    Nothing resolves cluster DNS here, so the server is told where each service listens; TLS is still
    verified against `<name>.<namespace>.svc`, as kube would. An entry with a port wins over one without.
    """

    def __init__(self, services: dict[str, str]) -> None:
        self.services = dict(services)

    def base_url(self, namespace: str, name: str, port: int) -> str | None:
        """The URL standing for `https://<name>.<namespace>.svc:<port>`, None for an unknown service."""
        ref = f"{namespace}/{name}"
        return self.services.get(f"{ref}:{port}") or self.services.get(ref)

    def url(self, namespace: str, name: str, port: int, path: str) -> str | None:
        """An admission webhook's URL: the base URL and the reference's path."""
        base = self.base_url(namespace, name, port)
        return None if base is None else base + path


class Server:
    def __init__(self, settings: Settings, store: Store | None = None) -> None:
        self.settings = settings
        self.store = store or open_store(settings.database, compact_window=settings.compact_window,
                                         compact_interval=settings.compact_interval)
        self.registry = Registry([*builtins.TYPES, CRD_TYPE, *admissions.TYPES])
        self.caches = Caches(self.store)
        self.resources = Resources(self.store, self.registry, self.caches)
        lifecycle = NamespaceLifecycle(self.resources, self.registry)
        self.resources.admit.append(lifecycle.before_create)
        self.resources.before_create.append(self._allocate_cluster_ip)
        self.resources.before_delete.append(lifecycle.before_delete)
        self.namespace_controller = NamespaceController(self.resources, self.registry)
        self.crd_controller = CRDController(self.resources, self.registry)
        self.resources.admit.append(self.crd_controller.before_create)

        self.openapi = OpenAPI(self.registry)
        self.service_resolver = ServiceResolver(settings.webhook_services)
        self.converter = Converter(resolve_service=self.service_resolver.base_url)
        self.resources.converter = self.converter
        # without a mapping, services are dialled by their DNS name, as kube does
        resolver = self.service_resolver.url if self.service_resolver.services else None
        self.admission = admissions.AdmissionChain(self.resources, self.registry, resolve_service=resolver)
        self.resources.admission = self.admission
        self.ready = asyncio.Event()
        # IPs handed out whose Service may not be in the cache yet (creates in flight).
        self._recent_ips: deque[str] = deque(maxlen=1024)

    async def start(self) -> None:
        await self.store.start()
        await self._bootstrap()
        await self.crd_controller.start()  # custom resources are served before we report ready
        await self.admission.start()  # and the stored webhook configurations are in force
        self.namespace_controller.start()
        self.ready.set()

    def end_watches(self) -> None:
        """Close every HTTP watch stream now (at shutdown); each ends cleanly after its last event."""
        self.caches.close_watchers()

    async def stop(self) -> None:
        self.ready.clear()
        await self.namespace_controller.stop()
        await self.crd_controller.stop()
        await self.converter.aclose()
        await self.admission.stop()
        await self.caches.stop()
        await self.store.close()

    async def _bootstrap(self) -> None:
        """What a fresh cluster has: the system namespaces and the default/kubernetes Service."""
        namespaces = self.registry.lookup("", "v1", "namespaces")
        services = self.registry.lookup("", "v1", "services")
        assert namespaces and services
        for name in INITIAL_NAMESPACES:
            with contextlib.suppress(AlreadyExists):
                await self.resources.create(Ctx(namespaces, None, name), {"metadata": {"name": name}})
        with contextlib.suppress(AlreadyExists):
            await self.resources.create(Ctx(services, "default", "kubernetes"), deep_copy(KUBERNETES_SERVICE))

    async def _allocate_cluster_ip(self, ctx: Ctx, obj: Obj) -> None:
        """Services get a free cluster IP from the service range, as kube's IP allocator gives."""
        if ctx.rt.group != "" or ctx.rt.plural != "services" or not needs_cluster_ip(obj):
            return
        cache = self.resources.cache(ctx.rt)
        await cache.ready()
        used = {ip for svc in cache.objects.values() for ip in (svc.get("spec") or {}).get("clusterIPs") or []}
        used.update(self._recent_ips)
        try:
            ip = allocate_cluster_ip(used, seed=f"{ctx.namespace}/{ctx.name}")
        except ValueError as err:
            raise ServiceUnavailable(f"failed to allocate a serviceIP: {err}") from err
        self._recent_ips.append(ip)
        spec = obj["spec"]
        spec["clusterIP"] = ip
        spec["clusterIPs"] = [ip]
