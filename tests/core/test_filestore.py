"""Private uploads in shared storage (issue 17, stateless nodes): the database backend and
an S3-compatible store (a moto server on loopback), through the real photo channel, the
staff's photo view and the personal-data purge; the local folder as the control."""

from __future__ import annotations

import io
import socket

import pytest
from django.core.files.base import ContentFile
from django.test import Client

from fairshare.core.filestore import DatabaseStorage, private_storage
from fairshare.core.models import StoredFile
from fairshare.env import EnvError, private_storage_config
from fairshare.registration.models import Registration, RegistrationPhoto
from fairshare.rounds.models import Round
from tests.factories import HouseholdFactory, MemberFactory, RoundFactory, UserFactory

pytestmark = pytest.mark.django_db
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))


def _private(settings, config: dict) -> None:
    settings.STORAGES = {**settings.STORAGES, "private": config}


def _register_photo(client: Client, household, round_) -> Registration:
    upload = io.BytesIO(PNG)
    upload.name = "id.png"
    response = client.post(
        f"/r/{round_.pk}/{household.committee.code}/photo/",
        {
            "building": household.building.pk,
            "room": household.pk,
            "name": "张三明",
            "phone": "13812345678",
            "photo": upload,
        },
    )
    assert response.status_code == 302, response.content.decode()[:400]
    return Registration.objects.get(household=household, round=round_)


def _served_by_staff(registration: Registration) -> bytes:
    staff = UserFactory(role="committee", committee=registration.committee)
    client = Client()
    client.force_login(staff)
    response = client.get(f"/r/photos/{registration.pk}/")
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def _purge(round_) -> None:
    Round.objects.filter(pk=round_.pk).update(status=Round.Status.CLOSED)
    from django.core.management import call_command

    call_command("purge_personal_data", "--round", str(round_.pk), stdout=io.StringIO())


@pytest.fixture
def household():
    household = HouseholdFactory()
    MemberFactory(household=household, name="张三明")
    return household


def test_database_storage_round_trip_and_unique_names():
    storage = DatabaseStorage()
    first = storage.save("photos/a.png", ContentFile(PNG))
    second = storage.save("photos/a.png", ContentFile(b"other"))
    assert first == "photos/a.png" and second != first  # a name is never reused
    assert storage.open(first).read() == PNG and storage.size(first) == len(PNG)
    assert storage.listdir("photos") == ([], sorted(["a.png", second.split("/")[1]]))
    storage.delete(first)
    assert not storage.exists(first) and storage.exists(second)
    with pytest.raises(FileNotFoundError):
        storage.open(first)


def test_photo_in_the_database_served_and_purged(client, settings, tmp_path, household):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    _private(settings, {"BACKEND": "fairshare.core.filestore.DatabaseStorage"})
    round_ = RoundFactory(district=household.committee.subdistrict.district)
    registration = _register_photo(client, household, round_)
    photo = RegistrationPhoto.objects.get(registration=registration)
    assert bytes(StoredFile.objects.get(name=photo.file.name).content) == PNG
    assert not (tmp_path / "private").exists() or not any((tmp_path / "private").rglob("*.png"))
    assert _served_by_staff(registration) == PNG  # any node reads it from the database
    _purge(round_)
    assert not StoredFile.objects.exists()
    assert not RegistrationPhoto.objects.filter(registration=registration).exists()


def test_local_storage_is_the_control(client, settings, tmp_path, household):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    _private(settings, private_storage_config({}))
    round_ = RoundFactory(district=household.committee.subdistrict.district)
    registration = _register_photo(client, household, round_)
    photo = RegistrationPhoto.objects.get(registration=registration)
    assert (tmp_path / "private" / photo.file.name).read_bytes() == PNG
    assert not StoredFile.objects.exists()
    assert _served_by_staff(registration) == PNG


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def s3_server():
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def test_photo_in_an_s3_compatible_store(client, settings, tmp_path, household, s3_server):
    import boto3

    env = {
        "FAIRSHARE_PRIVATE_STORAGE": "s3",
        "FAIRSHARE_S3_BUCKET": "fairshare-private",
        "FAIRSHARE_S3_ENDPOINT_URL": s3_server,
        "FAIRSHARE_S3_REGION": "us-east-1",
        "FAIRSHARE_S3_ACCESS_KEY_ID": "test",
        "FAIRSHARE_S3_SECRET_ACCESS_KEY": "test",
    }
    s3 = boto3.client(
        "s3",
        endpoint_url=s3_server,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    s3.create_bucket(Bucket="fairshare-private")
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    _private(settings, private_storage_config(env))
    round_ = RoundFactory(district=household.committee.subdistrict.district)
    registration = _register_photo(client, household, round_)
    photo = RegistrationPhoto.objects.get(registration=registration)
    key = f"private/{photo.file.name}"
    assert s3.get_object(Bucket="fairshare-private", Key=key)["Body"].read() == PNG
    assert not StoredFile.objects.exists() and not (tmp_path / "private").exists()
    assert _served_by_staff(registration) == PNG
    _purge(round_)
    assert s3.list_objects_v2(Bucket="fairshare-private").get("KeyCount", 0) == 0
    assert private_storage().__class__.__name__ == "S3Storage"


def test_storage_setting_is_strict():
    with pytest.raises(EnvError, match="FAIRSHARE_PRIVATE_STORAGE"):
        private_storage_config({"FAIRSHARE_PRIVATE_STORAGE": "nfs"})
    with pytest.raises(EnvError, match="FAIRSHARE_S3_BUCKET"):
        private_storage_config({"FAIRSHARE_PRIVATE_STORAGE": "s3"})
    assert private_storage_config({"FAIRSHARE_PRIVATE_STORAGE": "Database"})["BACKEND"].endswith(
        "DatabaseStorage"
    )
