"""RegistrationPhoto.path becomes ``file``, a FileField on the private media storage.

The column keeps its name ("path") and its values: they were already names relative
to PRIVATE_MEDIA_ROOT, which is where the storage is rooted, so no row changes.
"""

from django.db import migrations, models

import fairshare.registration.models


class Migration(migrations.Migration):
    dependencies = [("registration", "0002_phonecode_registration_id_checked_registrationphoto")]

    # State only: the column is still "path" (db_column), with the same values.
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RenameField(
                    model_name="registrationphoto", old_name="path", new_name="file"
                ),
                migrations.AlterField(
                    model_name="registrationphoto",
                    name="file",
                    field=models.FileField(
                        db_column="path",
                        help_text="relative to PRIVATE_MEDIA_ROOT",
                        max_length=200,
                        storage=fairshare.registration.models.PrivateMediaStorage(),
                        upload_to="",
                    ),
                ),
            ],
            database_operations=[],
        )
    ]
