"""The JSON API: one NinjaAPI, one router per domain (routers live beside this file)."""

from ninja import NinjaAPI

api = NinjaAPI(title="dailypapers API", version="1", urls_namespace="api")
