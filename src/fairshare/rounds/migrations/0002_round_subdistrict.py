import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("community", "0001_initial"),
        ("rounds", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="round",
            name="subdistrict",
            field=models.ForeignKey(
                blank=True,
                help_text="Leave empty for a round of the whole district.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="rounds",
                to="community.subdistrict",
                verbose_name="subdistrict",
            ),
        ),
    ]
