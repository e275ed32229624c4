"""Demo content grounded in the 2011 dialogue "Joining Forces: Engaging men as allies in
gender-sensitive peacebuilding" (IFOR Women Peacemakers Program and New Tactics)."""

from __future__ import annotations

import base64
import random
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from faker import Faker
from sqlalchemy import select, text

from pledges.domain import transitions
from pledges.domain.content import current_translations
from pledges.domain.cycles import pledge_cadence
from pledges.extensions import db
from pledges.infrastructure.database import (
    bulk_insert,
    bulk_insert_returning_ids,
    utcnow,
    without_foreign_key_checks,
)
from pledges.infrastructure.security import CODE_ALPHABET
from pledges.models import (
    Action,
    AllyRole,
    Commitment,
    CommitmentTranslation,
    Organization,
    Pledge,
    PledgeStatus,
    PledgeTranslation,
    Signature,
    SignatureCommitment,
    SignatureStatus,
    Visibility,
)

DEMO_SLUG = "joining-forces"

PREAMBLE = """\
Violence and war are shaped by the roles men and women are raised into. Peacebuilding and \
ending violence affect us all as people formed by those roles, so we cannot do this work \
as women alone or as men alone: we do it as allies.

We reject the idea that masculinity means dominance, control and violence. Men gain from \
this too, for the same hierarchies that harm women harm men's lives with one another. Men \
who hold positions in patriarchal institutions can help change them from within; women's \
experience and leadership guide that change.

Our engagement is not charity and it is not paternalism. It is collaboration: listening, \
respect, patience and dialogue, sustained over time. By signing, we make written \
commitments that others can hold us to, and that we can use to demand change."""

GUIDELINES = """\
Choose commitments you can actually keep over the coming months; two kept are worth more \
than eight forgotten. The first two are the heart of the pledge and are part of every \
signature.

"Ally" here means working with women peacebuilders, not on their behalf: listen first, \
follow their lead on what they need, and do not speak for them.

Commitment fades unless it is renewed. Return to your private page each month to look \
at what you committed to, and talk it over with a woman peacebuilder you work with: \
accountability between allies is part of the pledge.

You decide how you appear on the public wall. Where being named is dangerous, sign \
anonymously: only your country is shown."""

COMMITMENTS = [
    (
        "I will work with women peacebuilders as an ally: listening first, collaborating "
        "rather than leading, and never speaking for them.",
        True,
    ),
    (
        "I will challenge the idea that masculinity means dominance, control or violence, "
        "in myself first and then in the people around me.",
        True,
    ),
    (
        "I will recognise the privileges and power I hold, and give up those that harm "
        "women and men.",
        False,
    ),
    (
        "I will take part in gender-sensitive training in cycles, not as a single event, and "
        "check in on this pledge each cycle.",
        False,
    ),
    (
        "I will join or host face-to-face dialogues where men can talk honestly about "
        "masculinity in a safe space.",
        False,
    ),
    (
        "I will use written pledges and documentation to ask leaders and institutions for "
        "concrete change.",
        False,
    ),
    (
        "I will network with other ally organizations and share what works, so our efforts last.",
        False,
    ),
    (
        "I will stand with women and men in my community to resist violence and militarisation.",
        False,
    ),
]

# The demo pledge in French, Spanish, Swahili and Urdu, whole (title, preamble, guidelines
# and every commitment, in COMMITMENTS' order), so switching language shows a whole page in
# it (Swahili and Urdu as content languages: CONTENT_LANGUAGES, ``?content=sw``).
TRANSLATIONS = {
    "fr": {
        "title": "Unir nos forces : femmes et hommes, allié·es pour la paix",
        "preamble": """\
La violence et la guerre sont façonnées par les rôles dans lesquels on élève les hommes et \
les femmes. Construire la paix et mettre fin à la violence nous concernent toutes et tous, \
en tant que personnes formées par ces rôles : nous ne pouvons donc pas faire ce travail \
entre femmes seulement, ni entre hommes seulement. Nous le faisons en allié·es.

Nous rejetons l’idée que la masculinité signifie domination, contrôle et violence. Les \
hommes y gagnent aussi, car les hiérarchies qui nuisent aux femmes abîment aussi la vie des \
hommes entre eux. Les hommes qui occupent des positions dans des institutions patriarcales \
peuvent aider à les changer de l’intérieur ; l’expérience et le leadership des femmes \
guident ce changement.

Notre engagement n’est ni de la charité ni du paternalisme. C’est une collaboration : \
écoute, respect, patience et dialogue, dans la durée. En signant, nous prenons des \
engagements écrits auxquels d’autres peuvent nous tenir, et dont nous pouvons nous servir \
pour exiger le changement.""",
        "guidelines": """\
Choisissez des engagements que vous pourrez réellement tenir dans les mois qui viennent : \
deux engagements tenus valent mieux que huit oubliés. Les deux premiers sont le cœur de \
l’engagement et font partie de chaque signature.

Être « allié·e » signifie ici travailler avec les femmes artisanes de paix, et non à leur \
place : écoutez d’abord, suivez-les sur ce dont elles ont besoin, et ne parlez pas en leur \
nom.

Un engagement s’étiole s’il n’est pas renouvelé. Revenez chaque mois sur votre page \
personnelle relire ce à quoi vous vous êtes engagé·e, et parlez-en avec une femme artisane \
de paix avec qui vous travaillez : se rendre des comptes entre allié·es fait partie de \
l’engagement.

Vous décidez de la façon dont vous apparaissez sur le mur public. Là où être nommé·e est \
dangereux, signez anonymement : seul votre pays est affiché.""",
        "commitments": [
            "Je travaillerai avec les femmes artisanes de paix en allié·e : en écoutant "
            "d’abord, en collaborant plutôt qu’en dirigeant, et sans jamais parler à leur place.",
            "Je remettrai en cause l’idée que la masculinité signifie domination, contrôle ou "
            "violence, d’abord en moi-même, puis chez les personnes qui m’entourent.",
            "Je reconnaîtrai les privilèges et le pouvoir que je détiens, et je renoncerai à "
            "ceux qui nuisent aux femmes et aux hommes.",
            "Je suivrai des formations sensibles au genre par cycles, et non en une seule fois, "
            "et je ferai le point sur cet engagement à chaque cycle.",
            "Je participerai à des dialogues en personne, ou j’en organiserai, où les hommes "
            "peuvent parler franchement de la masculinité dans un espace sûr.",
            "Je m’appuierai sur les engagements écrits et la documentation pour demander aux "
            "responsables et aux institutions des changements concrets.",
            "Je tisserai des liens avec d’autres organisations alliées et partagerai ce qui "
            "fonctionne, pour que nos efforts durent.",
            "Je me tiendrai aux côtés des femmes et des hommes de ma communauté pour résister à "
            "la violence et à la militarisation.",
        ],
    },
    "es": {
        "title": "Unir fuerzas: mujeres y hombres, aliados por la paz",
        "preamble": """\
La violencia y la guerra están marcadas por los roles en los que se educa a hombres y \
mujeres. Construir la paz y poner fin a la violencia nos afecta a todas las personas \
formadas por esos roles, así que no podemos hacer este trabajo solo como mujeres ni solo \
como hombres: lo hacemos como aliados.

Rechazamos la idea de que la masculinidad signifique dominación, control y violencia. Los \
hombres también ganan con ello, porque las mismas jerarquías que dañan a las mujeres dañan \
la vida de los hombres entre sí. Los hombres que ocupan cargos en instituciones \
patriarcales pueden ayudar a cambiarlas desde dentro; la experiencia y el liderazgo de las \
mujeres guían ese cambio.

Nuestro compromiso no es caridad ni paternalismo. Es colaboración: escucha, respeto, \
paciencia y diálogo, sostenidos en el tiempo. Al firmar, asumimos compromisos por escrito \
que otras personas pueden exigirnos y que podemos usar para exigir cambios.""",
        "guidelines": """\
Elige compromisos que de verdad puedas cumplir en los próximos meses: dos cumplidos valen \
más que ocho olvidados. Los dos primeros son el corazón del compromiso y forman parte de \
toda firma.

Aquí, «aliado» significa trabajar con las mujeres constructoras de paz, no en su lugar: \
escucha primero, sigue su criterio sobre lo que necesitan y no hables por ellas.

El compromiso se apaga si no se renueva. Vuelve cada mes a tu página privada para repasar \
lo que te comprometiste a hacer, y coméntalo con una mujer constructora de paz con la que \
trabajes: rendirse cuentas entre aliados forma parte del compromiso.

Tú decides cómo apareces en el muro público. Donde ser nombrado sea peligroso, firma de \
forma anónima: solo se mostrará tu país.""",
        "commitments": [
            "Trabajaré con las mujeres constructoras de paz como aliado: escuchando primero, "
            "colaborando en lugar de dirigir y sin hablar nunca por ellas.",
            "Cuestionaré la idea de que la masculinidad significa dominación, control o "
            "violencia, primero en mí y después en las personas que me rodean.",
            "Reconoceré los privilegios y el poder que tengo, y renunciaré a los que dañan a "
            "mujeres y hombres.",
            "Participaré en formaciones con perspectiva de género por ciclos, no como un evento "
            "aislado, y revisaré este compromiso en cada ciclo.",
            "Participaré en diálogos presenciales, o los organizaré, donde los hombres puedan "
            "hablar con franqueza sobre la masculinidad en un espacio seguro.",
            "Usaré los compromisos escritos y la documentación para pedir cambios concretos a "
            "líderes e instituciones.",
            "Tejeré redes con otras organizaciones aliadas y compartiré lo que funciona, para "
            "que nuestros esfuerzos perduren.",
            "Me uniré a mujeres y hombres de mi comunidad para resistir la violencia y la "
            "militarización.",
        ],
    },
    "sw": {
        "title": "Kuunganisha nguvu: wanawake na wanaume, washirika kwa ajili ya amani",
        "preamble": """\
Vurugu na vita huundwa na majukumu ambayo wanaume na wanawake hulelewa ndani yake. Kujenga \
amani na kukomesha vurugu kunatugusa sote kama watu tulioundwa na majukumu hayo, kwa hiyo \
hatuwezi kufanya kazi hii kama wanawake peke yetu wala kama wanaume peke yetu: tunaifanya \
kama washirika.

Tunakataa wazo kwamba uanaume unamaanisha kutawala, kudhibiti na vurugu. Wanaume nao \
wananufaika, kwa sababu mifumo ileile ya madaraka inayowadhuru wanawake huharibu pia maisha \
ya wanaume wao kwa wao. Wanaume walio na nafasi katika taasisi za mfumo dume wanaweza \
kusaidia kuzibadilisha kutoka ndani; uzoefu na uongozi wa wanawake huongoza mabadiliko hayo.

Ushiriki wetu si hisani wala si kuwaamulia wengine. Ni ushirikiano: kusikiliza, heshima, \
subira na mazungumzo, kwa muda mrefu. Kwa kutia sahihi, tunatoa ahadi za maandishi ambazo \
wengine wanaweza kutuwajibisha nazo, na ambazo tunaweza kuzitumia kudai mabadiliko.""",
        "guidelines": """\
Chagua ahadi unazoweza kuzitimiza kweli katika miezi ijayo; mbili zilizotimizwa zina \
thamani kuliko nane zilizosahaulika. Mbili za kwanza ndizo kiini cha ahadi hii na ni sehemu \
ya kila sahihi.

"Mshirika" hapa maana yake ni kufanya kazi pamoja na wanawake wajenzi wa amani, si kwa \
niaba yao: sikiliza kwanza, fuata mwongozo wao kuhusu wanachohitaji, na usiseme kwa niaba \
yao.

Ahadi hufifia isipofanywa upya. Rudi kwenye ukurasa wako wa faragha kila mwezi kuangalia \
ulichoahidi, na ujadiliane nacho na mwanamke mjenzi wa amani unayefanya naye kazi: \
kuwajibishana kati ya washirika ni sehemu ya ahadi hii.

Wewe ndiye unayeamua jinsi unavyoonekana kwenye ukuta wa umma. Mahali ambapo kutajwa kwa \
jina ni hatari, tia sahihi bila jina: nchi yako tu ndiyo itaonyeshwa.""",
        "commitments": [
            "Nitafanya kazi na wanawake wajenzi wa amani kama mshirika: nikisikiliza kwanza, "
            "nikishirikiana badala ya kuongoza, na kamwe bila kusema kwa niaba yao.",
            "Nitapinga wazo kwamba uanaume unamaanisha kutawala, kudhibiti au vurugu, kwanza "
            "ndani yangu mwenyewe na kisha kwa watu wanaonizunguka.",
            "Nitatambua upendeleo na madaraka niliyo nayo, na kuacha yale yanayowadhuru "
            "wanawake na wanaume.",
            "Nitashiriki mafunzo yanayozingatia jinsia kwa mizunguko, si kama tukio moja, na "
            "kupitia ahadi hii katika kila mzunguko.",
            "Nitajiunga na mazungumzo ya ana kwa ana, au kuyaandaa, ambapo wanaume wanaweza "
            "kuzungumza kwa uwazi kuhusu uanaume katika mazingira salama.",
            "Nitatumia ahadi za maandishi na kumbukumbu kuwaomba viongozi na taasisi "
            "mabadiliko halisi.",
            "Nitashirikiana na mashirika mengine washirika na kubadilishana kinachofanya kazi, "
            "ili juhudi zetu zidumu.",
            "Nitasimama pamoja na wanawake na wanaume wa jamii yangu kupinga vurugu na kijeshi.",
        ],
    },
    "ur": {
        "title": "مل کر طاقت: عورتیں اور مرد، امن کے لیے اتحادی",
        "preamble": """\
تشدد اور جنگ ان کرداروں سے تشکیل پاتے ہیں جن میں مردوں اور عورتوں کی پرورش ہوتی ہے۔ امن قائم \
کرنا اور تشدد ختم کرنا ہم سب سے متعلق ہے، کیونکہ ہم سب انہی کرداروں میں ڈھلے ہیں، اس لیے ہم یہ کام \
صرف عورتوں کے طور پر یا صرف مردوں کے طور پر نہیں کر سکتے: ہم اسے اتحادیوں کے طور پر کرتے ہیں۔

ہم اس تصور کو رد کرتے ہیں کہ مردانگی کا مطلب غلبہ، قابو اور تشدد ہے۔ اس سے مردوں کا بھی فائدہ \
ہے، کیونکہ جو درجہ بندیاں عورتوں کو نقصان پہنچاتی ہیں وہی مردوں کی آپس کی زندگی کو بھی نقصان \
پہنچاتی ہیں۔ پدرشاہی اداروں میں عہدوں پر فائز مرد انہیں اندر سے بدلنے میں مدد دے سکتے ہیں؛ \
عورتوں کا تجربہ اور قیادت اس تبدیلی کی رہنمائی کرتے ہیں۔

ہماری شمولیت نہ خیرات ہے نہ سرپرستی۔ یہ تعاون ہے: سننا، احترام، صبر اور مکالمہ، وقت کے ساتھ \
جاری۔ دستخط کر کے ہم تحریری وعدے کرتے ہیں جن پر دوسرے ہمارا احتساب کر سکتے ہیں، اور جنہیں \
ہم تبدیلی کا مطالبہ کرنے کے لیے استعمال کر سکتے ہیں۔""",
        "guidelines": """\
ایسے وعدے منتخب کریں جو آپ آنے والے مہینوں میں واقعی نبھا سکیں؛ نبھائے گئے دو وعدے بھلائے گئے \
آٹھ سے بہتر ہیں۔ پہلے دو اس عہد کا مرکز ہیں اور ہر دستخط کا حصہ ہیں۔

یہاں “اتحادی” کا مطلب ہے امن قائم کرنے والی عورتوں کے ساتھ مل کر کام کرنا، ان کی جگہ نہیں: \
پہلے سنیں، ان کی ضروریات کے بارے میں ان کی رہنمائی پر چلیں، اور ان کی طرف سے نہ بولیں۔

وعدہ تجدید کے بغیر ماند پڑ جاتا ہے۔ ہر مہینے اپنے نجی صفحے پر واپس آ کر دیکھیں کہ آپ نے کیا وعدہ \
کیا تھا، اور اس پر کسی ایسی امن قائم کرنے والی عورت سے بات کریں جس کے ساتھ آپ کام کرتے ہیں: \
اتحادیوں کے درمیان باہمی احتساب اس عہد کا حصہ ہے۔

عوامی دیوار پر آپ کیسے ظاہر ہوں، یہ آپ طے کرتے ہیں۔ جہاں نام آنا خطرناک ہو، وہاں گمنام \
دستخط کریں: صرف آپ کا ملک دکھایا جاتا ہے۔""",
        "commitments": [
            "میں امن قائم کرنے والی عورتوں کے ساتھ اتحادی بن کر کام کروں گا: پہلے سنوں گا، "
            "قیادت کے بجائے تعاون کروں گا، اور کبھی ان کی طرف سے نہیں بولوں گا۔",
            "میں اس تصور کو چیلنج کروں گا کہ مردانگی کا مطلب غلبہ، قابو یا تشدد ہے، پہلے اپنے "
            "اندر اور پھر اپنے آس پاس کے لوگوں میں۔",
            "میں اپنی مراعات اور طاقت کو پہچانوں گا، اور ان سے دستبردار ہوں گا جو عورتوں اور "
            "مردوں کو نقصان پہنچاتی ہیں۔",
            "میں صنفی حساسیت کی تربیت ایک بار کے بجائے ادوار میں حاصل کروں گا، اور ہر دور میں "
            "اس عہد کا جائزہ لوں گا۔",
            "میں بالمشافہ مکالموں میں شامل ہوں گا یا ان کا انتظام کروں گا، جہاں مرد ایک محفوظ "
            "ماحول میں مردانگی پر کھل کر بات کر سکیں۔",
            "میں تحریری عہد اور دستاویزات کو رہنماؤں اور اداروں سے ٹھوس تبدیلی مانگنے کے لیے "
            "استعمال کروں گا۔",
            "میں دوسری اتحادی تنظیموں سے رابطے بناؤں گا اور جو کارآمد ہو وہ بانٹوں گا، تاکہ "
            "ہماری کوششیں دیرپا ہوں۔",
            "میں اپنی برادری کی عورتوں اور مردوں کے ساتھ کھڑا ہو کر تشدد اور عسکریت کی مزاحمت "
            "کروں گا۔",
        ],
    },
}

ORGANIZATIONS = [
    (
        "womens-peacemakers-program",
        "Women Peacemakers Program",
        "NL",
        "IFOR's programme supporting women peacemakers and gender-sensitive active nonviolence.",
    ),
    (
        "chemchemi-ya-ukweli",
        "Chemchemi Ya Ukweli",
        "KE",
        "Kenyan network for active nonviolence and reconciliation.",
    ),
    (
        "just-peace-international",
        "Just Peace International",
        "PK",
        "Restorative justice and peacebuilding with communities in Pakistan.",
    ),
    (
        "fountain-isoko",
        "Fountain-ISOKO for Good Governance",
        "BI",
        "Good governance and integrated development in Burundi.",
    ),
    ("emancipator", "eMANcipator", "NL", "Generating positive masculinities."),
    (
        "mens-resources-international",
        "Men's Resources International",
        "US",
        "Engaging men as allies to end violence and promote gender equality.",
    ),
]

# Countries of the dialogue's participants and beyond, weighted, with Faker locales for names
# (None: the country's own list in NAMES, where Faker has none that tells men's names from
# women's, or none of the country's).
COUNTRIES = [
    ("KE", "en_KE", 14),
    ("PK", None, 12),
    ("LK", "si_LK", 8),
    ("BI", None, 6),
    ("NL", "nl_NL", 7),
    ("US", "en_US", 6),
    ("IN", "en_IN", 8),
    ("NG", "en_NG", 7),
    ("CO", "es_CO", 6),
    ("TZ", "sw", 5),
    ("ZA", "zu_ZA", 5),
    ("NP", "ne_NP", 3),
    ("PS", "ar_PS", 4),
    ("GH", "tw_GH", 3),
    ("FR", "fr_FR", 3),
    ("MX", "es_MX", 3),
]
ROLES = [(AllyRole.MAN, 55), (AllyRole.WOMAN, 35), (AllyRole.OTHER, 3), (AllyRole.UNDISCLOSED, 7)]
VISIBILITIES = [
    (Visibility.FULL, 35),
    (Visibility.INITIAL, 35),
    (Visibility.ORGANIZATION, 10),
    (Visibility.ANONYMOUS, 20),
]
# Men's first names, women's first names, family names.
NAMES = {
    "PK": (
        "Ahmed Ali Bilal Hamza Imran Kamran Omar Saad Tariq Usman Waqas Zubair Faisal Junaid "
        "Asif".split(),
        "Ayesha Fatima Hina Mehwish Nadia Rabia Saima Samina Sana Shazia Zainab Amna Bushra "
        "Farah Mariam".split(),
        "Khan Ahmed Hussain Qureshi Malik Chaudhry Butt Siddiqui Baloch Shah Abbasi Javed Iqbal "
        "Rana Mirza".split(),
    ),
    "BI": (
        "Jean-Claude Pierre Évariste Pascal Léonce Emmanuel Déo Gervais Innocent Joseph Aloys "
        "Fabrice".split(),
        "Claudine Goreth Jeanine Espérance Immaculée Béatrice Nadine Chantal Odette Spès "
        "Francine Euphrasie".split(),
        "Ndayishimiye Niyonzima Nkurunziza Hakizimana Ndikumana Niyonkuru Irakoze Bizimana "
        "Nshimirimana Manirakiza Ntahomvukiye Nduwimana Niyongabo Kwizera".split(),
    ),
}
# Notes, each with the ally roles it fits (None: any).
NOTES = [
    ("Because my daughters deserve a safer country than the one I grew up in.", None),
    ("Peace starts at home, in how we raise our sons.", None),
    (
        "I sign as a woman peacebuilder who wants men beside us, not in front of us.",
        {AllyRole.WOMAN},
    ),
    ("Our training ended, but the work should not. This keeps me honest.", None),
    ("I have benefited from privilege for too long without questioning it.", {AllyRole.MAN}),
    ("Dialogue changed me. I want to open that space for other men.", {AllyRole.MAN}),
    ("For the women of my village who rebuilt everything after the war.", None),
    (
        "Masculinity does not have to mean violence. I am learning that every day.",
        {AllyRole.MAN},
    ),
    ("Men who listen have been the best allies of our women's peace group.", {AllyRole.WOMAN}),
]
ACTIONS = [
    (
        "conversation",
        "Held a dialogue with young men in my neighbourhood about masculinity and violence.",
    ),
    (
        "training",
        "Co-facilitated a gender-sensitive training with a women's "
        "peace group, first of a cycle of three.",
    ),
    (
        "speaking_out",
        "Spoke at the community meeting against recruiting boys into the militia.",
    ),
    (
        "advocacy",
        "Took our written pledge to the district officer and asked for a women's safety desk.",
    ),
    (
        "conversation",
        "Listened to women peacebuilders' priorities before we planned the next workshop.",
    ),
    (
        "personal_practice",
        "Took on the childcare at home so that my partner could attend the peace committee.",
    ),
    (
        "mentoring",
        "Mentored two young facilitators on running safe spaces for men.",
    ),
    (
        "advocacy",
        "Wrote to our member of parliament with the pledge and the names of ally organizations.",
    ),
]
ACTING_SHARE = 0.25  # of synthetic signers who log actions
# Signers whose cycle ended in the last days are due for a check-in: seeded as though
# `pledges send-reminders` last ran this long ago, so running it shows something.
REMINDERS_LAST_RAN = timedelta(days=3)
#: Signers written per round trip: COPY on PostgreSQL takes large batches well; SQLite's
#: executemany gains nothing past a few thousand.
BATCH = 20_000
SQLITE_BATCH = 2000


def any_pledge_exists() -> bool:
    return db.session.scalar(select(Pledge.id).limit(1)) is not None


def ensure_demo_pledge() -> Pledge:
    """The demo pledge and its organizations, created once."""
    pledge = db.session.scalar(select(Pledge).where(Pledge.slug == DEMO_SLUG))
    if pledge is not None:
        if _add_translations(pledge):
            transitions.wall_content_changed(pledge.id)
        return pledge
    existing = set(db.session.scalars(select(Organization.slug)))
    organizations = {}
    for slug, name, country, description in ORGANIZATIONS:
        if slug in existing:
            organizations[slug] = db.session.scalar(
                select(Organization).where(Organization.slug == slug)
            )
            continue
        organizations[slug] = Organization(
            slug=slug, name=name, country=country, description=description
        )
        db.session.add(organizations[slug])
    pledge = Pledge(
        slug=DEMO_SLUG,
        title="Joining Forces: men and women as allies for peace",
        preamble=PREAMBLE,
        guidelines=GUIDELINES,
        status=PledgeStatus.OPEN,
        goal=100_000,
        checkin_cadence_days=30,
        organization=organizations["womens-peacemakers-program"],
        opened_at=utcnow() - timedelta(days=90),
        commitments=[
            Commitment(position=i, text=text, required=required)
            for i, (text, required) in enumerate(COMMITMENTS, start=1)
        ],
    )
    db.session.add(pledge)
    db.session.flush()
    _add_translations(pledge)
    db.session.flush()
    return pledge


def _add_translations(pledge: Pledge) -> bool:
    """Translate the demo pledge into each language of TRANSLATIONS it lacks; each
    commitment only while it keeps its demo wording. True if any was added."""
    added = False
    for locale, words in TRANSLATIONS.items():
        if any(t.locale == locale for t in pledge.translations):
            continue
        pledge.translations.append(
            PledgeTranslation(
                locale=locale,
                title=words["title"],
                preamble=words["preamble"],
                guidelines=words["guidelines"],
            )
        )
        originals = [text for text, _ in COMMITMENTS]
        translated = current_translations(pledge.commitments, locale)
        for commitment in pledge.commitments:
            if commitment.text in originals and commitment.id not in translated:
                db.session.add(
                    CommitmentTranslation(
                        commitment_id=commitment.id,
                        version=commitment.version,
                        locale=locale,
                        text=words["commitments"][originals.index(commitment.text)],
                    )
                )
        added = True
    return added


NamePool = tuple[list[str], list[str], list[str]]


def _name_pools(rng: random.Random, size: int = 300) -> dict[str, NamePool]:
    """Per country, men's and women's first names and family names to combine (Faker per
    row is the slow part)."""
    pools = {}
    for country, locale, _ in COUNTRIES:
        if locale is None:
            pools[country] = NAMES[country]
            continue
        faker = Faker(locale)
        faker.seed_instance(rng.random())
        pools[country] = (
            [faker.first_name_male() for _ in range(size)],
            [faker.first_name_female() for _ in range(size)],
            [faker.last_name() for _ in range(size)],
        )
    return pools


def _full_name(rng: random.Random, pool: NamePool, role: AllyRole) -> str:
    """A name that fits the role: a man's for a man, a woman's for a woman, either else."""
    men, women, families = pool
    if role == AllyRole.MAN:
        first = men
    elif role == AllyRole.WOMAN:
        first = women
    else:
        first = rng.choice((men, women))
    return f"{rng.choice(first)} {rng.choice(families)}"


def new_public_ids(count: int) -> list[str]:
    """``count`` public ids as models.new_public_id makes them (16 URL-safe characters from
    12 random bytes), from one read of the system's randomness instead of one each."""
    text = base64.urlsafe_b64encode(secrets.token_bytes(12 * count)).decode()
    return [text[i : i + 16] for i in range(0, 16 * count, 16)]


_BASE32_TO_CODE = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", CODE_ALPHABET)


def new_verification_codes(count: int) -> list[str]:
    """``count`` verification codes as security.new_verification_code makes them (10 of
    CODE_ALPHABET's 32 characters, 50 random bits, ``XXXXX-XXXXX``), in one read."""
    raw = base64.b32encode(secrets.token_bytes(25 * -(-count // 4))).decode()
    raw = raw.translate(_BASE32_TO_CODE)
    return [f"{raw[i : i + 5]}-{raw[i + 5 : i + 10]}" for i in range(0, 10 * count, 10)]


def _checkins(confirmed: datetime, now: datetime, cycle: timedelta) -> tuple[datetime, int]:
    """``next_checkin_at`` and ``last_reminded_cycle`` of a signer confirmed at ``confirmed``
    had reminders gone out until REMINDERS_LAST_RAN ago: one whose cycle ended since is due."""
    current = int((now - confirmed) / cycle) + 1
    ended_at = confirmed + (current - 1) * cycle
    if current > 1 and ended_at > now - REMINDERS_LAST_RAN:
        return ended_at, current - 2
    return ended_at + cycle, current - 1


def add_synthetic_signatures(
    pledge: Pledge,
    count: int,
    seed: int | None = None,
    progress: Callable[[int], object] = lambda n: None,
) -> None:
    """Insert ``count`` confirmed synthetic signers in bulk, then rebuild the counters."""
    rng = random.Random(seed)  # noqa: S311 - synthetic demo data, not secrets
    names = _name_pools(rng)
    countries, _, country_weights = zip(*COUNTRIES, strict=True)
    roles, role_weights = zip(*ROLES, strict=True)
    visibilities, visibility_weights = zip(*VISIBILITIES, strict=True)
    org_names = [name for _, name, _, _ in ORGANIZATIONS]
    required = [c.id for c in pledge.commitments if c.required]
    optional = [c.id for c in pledge.commitments if not c.required]
    versions = {c.id: c.version for c in pledge.commitments}

    now = utcnow()
    span = timedelta(days=89).total_seconds()
    cycle = pledge_cadence(pledge)
    signature_table = Signature.__table__
    chosen_table = SignatureCommitment.__table__
    action_table = Action.__table__
    run = secrets.token_hex(4)
    role_of = {role: role.value for role in roles}
    visibility_of = {visibility: visibility.value for visibility in visibilities}
    shows_role = {Visibility.FULL, Visibility.INITIAL}
    notes_for = {
        role: [text for text, fits in NOTES if fits is None or role in fits] for role in roles
    }
    batch = BATCH if db.session.connection().dialect.name == "postgresql" else SQLITE_BATCH
    without_foreign_key_checks(db.session)
    done = 0
    while done < count:
        size = min(batch, count - done)
        rows, acted_at = [], []
        # Drawn a batch at a time: per row, the random module's call overhead was a third
        # of the seeding at a million.
        country_draws = rng.choices(range(len(countries)), country_weights, k=size)
        role_draws = rng.choices(roles, role_weights, k=size)
        visibility_draws = rng.choices(visibilities, visibility_weights, k=size)
        public_ids = new_public_ids(size)
        codes = new_verification_codes(size)
        for i in range(size):
            n = done + i
            index = country_draws[i]
            role = role_draws[i]
            visibility = visibility_draws[i]
            has_org = visibility == Visibility.ORGANIZATION or rng.random() < 0.25
            # Spread over the last 89 days, oldest first, so the wall reads like a campaign.
            confirmed = now - timedelta(seconds=span * (1 - (n + 1) / (count + 1)))
            email = f"demo-{run}-{n}@example.org"
            # When this signer logged an action, if they did: between confirming and now.
            acted = confirmed + (now - confirmed) * rng.random()
            acts = rng.random() < ACTING_SHARE
            next_checkin_at, last_reminded_cycle = _checkins(confirmed, now, cycle)
            acted_at.append(acted if acts else None)
            rows.append(
                {
                    "pledge_id": pledge.id,
                    "full_name": _full_name(rng, names[countries[index]], role),
                    "email": email,
                    "email_normalized": email,
                    "country": countries[index],
                    "role": role_of[role],
                    "organization_name": rng.choice(org_names) if has_org else "",
                    "visibility": visibility_of[visibility],
                    "public_id": public_ids[i],
                    "show_role": visibility in shows_role,
                    # Published at once, from the day they confirmed (transitions.confirm).
                    "public_since": confirmed.replace(hour=0, minute=0, second=0, microsecond=0),
                    "personal_note": rng.choice(notes_for[role]) if rng.random() < 0.15 else "",
                    "status": SignatureStatus.CONFIRMED.value,
                    "verification_code": codes[i],
                    "signed_at": confirmed - timedelta(minutes=rng.randint(1, 600)),
                    "confirmed_at": confirmed,
                    # Demo signers count as already reviewed by moderators.
                    "reviewed_at": confirmed,
                    # Active until the end of the cycle they acted in (see checkins.cycles).
                    "active_until": (
                        confirmed + ((acted - confirmed) // cycle + 1) * cycle if acts else None
                    ),
                    "next_checkin_at": next_checkin_at,
                    "last_reminded_cycle": last_reminded_cycle,
                }
            )
        ids = bulk_insert_returning_ids(db.session, signature_table, rows)
        chosen, logged = [], []
        for signature_id, acted in zip(ids, acted_at, strict=True):
            picks = required + rng.sample(optional, rng.randint(0, len(optional)))
            chosen.extend(
                {"signature_id": signature_id, "commitment_id": c, "version": versions[c]}
                for c in picks
            )
            if acted is not None:
                # Logged when they acted: each at its own time, never all at "now".
                kind, description = rng.choice(ACTIONS)
                logged.append(
                    {
                        "pledge_id": pledge.id,
                        "signature_id": signature_id,
                        "commitment_id": rng.choice(picks),
                        "kind": kind,
                        "done_on": acted.date(),
                        "description": description,
                        "people_reached": rng.choice([None, 1, 3, 5, 12, 20, 45]),
                        "evidence_url": None,
                        "visibility": "public" if rng.random() < 0.7 else "private",
                        "review_state": "unreviewed",
                        "created_at": acted,
                        "updated_at": acted,
                    }
                )
        bulk_insert(db.session, chosen_table, chosen)
        bulk_insert(db.session, action_table, logged)
        done += size
        progress(size)
    transitions.signatures_loaded(pledge.id)
    if db.session.connection().dialect.name == "postgresql":
        # Fresh statistics: the planner's row estimates (the wall's "about N" past
        # wall.service.EXACT_COUNT_UPTO) and its plans would otherwise wait for autovacuum.
        db.session.execute(text("ANALYZE signatures, signature_commitments, actions"))
