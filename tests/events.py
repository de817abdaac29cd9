"""Bodies for test articles that are meant to be separate stories. Articles whose text differs only in
the headline are one story to the bot (bot/stories), so a test that wants one alert per article gives
each its own event: ``event(n)`` is a sentence of its own for every n below ``len(EVENTS)``."""

from __future__ import annotations

EVENTS = (
    "Firefighters in Lisbon contained a warehouse blaze near the harbour before dawn.",
    "The central bank of Chile held its benchmark rate, citing stubborn food prices.",
    "A cargo ship ran aground off Gdansk, spilling grain along the northern breakwater.",
    "Voters in Manitoba elected a mayor who promised cheaper buses and later libraries.",
    "Engineers restarted the Kashiwazaki reactor after a fourteen-month safety review.",
    "A heatwave across Andalusia pushed orchards to ration irrigation water this week.",
    "Toyota recalled hybrid sedans over faulty seatbelt sensors found during inspections.",
    "Archaeologists near Luxor uncovered painted tombs belonging to temple scribes.",
    "The Kenyan sprinter Wanjiru broke the indoor record at the Birmingham meeting.",
    "Flooding closed the Danube ferry crossing at Vidin as river levels kept rising.",
    "Shareholders of Philips rejected the executive pay package at the annual meeting.",
    "A measles outbreak in Auckland schools prompted free vaccination clinics downtown.",
    "Striking dockworkers in Antwerp halted container traffic over pension reforms.",
    "Astronomers at Paranal spotted a comet brightening faster than forecasts predicted.",
    "The Bolivian senate approved lithium contracts with a consortium from Shenzhen.",
    "Wildfire smoke from Alberta forced Minneapolis to cancel outdoor school sports.",
    "A landslide buried the mountain road linking Cusco with the Sacred Valley villages.",
    "Heathrow baggage handlers accepted a wage offer, ending the threat of Easter walkouts.",
    "Icelandic volcanologists warned of fresh fissures opening near Grindavik overnight.",
    "The Vatican museum returned Parthenon marble fragments to Athens in a ceremony.",
    "Monsoon rains flooded Dhaka markets, stranding vendors and delaying garment exports.",
    "Cyclists protested in Bogota after a truck struck a courier on the Septima avenue.",
    "Samsung unveiled a foldable tablet, priced above rivals from Lenovo and Huawei.",
    "A drought in Zambia cut hydropower output at Kariba, bringing daily blackouts.",
    "Ornithologists counted record flamingo numbers wintering on the Camargue lagoons.",
    "The Uruguayan striker Pellistri signed with Feyenoord on a four-season contract.",
    "Hackers breached a Norwegian hospital network, delaying surgeries in Bergen.",
    "Vineyards in Burgundy lost blossoms to a late frost that growers called brutal.",
    "A tram derailed in Melbourne's Fitzroy district, injuring three commuters slightly.",
    "The Moroccan parliament passed a water-saving law targeting golf course sprinklers.",
    "Paleontologists in Patagonia unearthed a titanosaur femur longer than a sofa.",
    "Ryanair cancelled Dublin routes to Bordeaux after an airport fee dispute.",
    "Beekeepers in Slovenia blamed a pesticide spray for collapsed hives near Maribor.",
    "The Philippine coast guard rescued fishermen adrift near Scarborough Shoal.",
    "Toronto council froze property taxes while raising parking fines downtown.",
    "A chess prodigy from Chennai drew against the world champion in Wijk aan Zee.",
    "Desert locusts swarmed farms in Eritrea, threatening the sorghum harvest.",
    "Glaziers restored rose windows at Chartres cathedral using medieval techniques.",
    "A Ghanaian startup launched solar-powered cold storage for Kumasi tomato sellers.",
    "Divers recovered Ming porcelain from a shipwreck off the Vietnamese coast at Quang Ngai.",
)


def event(n: int) -> str:
    return EVENTS[n % len(EVENTS)]
