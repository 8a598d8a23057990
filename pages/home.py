"""Home: what the lab is, in three sentences, and a one-click demo (CE against one seed method)."""
import streamlit as st

import ui
from lab.config import RunConfig
from lab.errors import LabError

DEMO_METHOD = "phantom"  # a name only: importing the registry (torch) would hold up the first page by seconds
DEMO = RunConfig(data="digits", model="mlp", train_size=300, epochs=12)

ui.page("RegLab")
st.markdown(
    "RegLab trains small neural networks in your browser, with or without a **regularizer**: an extra "
    "term in the loss that shapes what the network learns.  \n"
    "While a run trains you watch its loss and accuracy; afterwards you look inside it, epoch by epoch: "
    "how the classes spread in the learned features, how the neurons point on the hypersphere, "
    "how similar same-class and different-class samples look, and how much information each layer keeps.  \n"
    "Comparing a regularizer with plain cross-entropy on the same data, model and seeds shows what it changed.")

st.subheader("Try it")
st.markdown(f"The demo trains two MLPs on 300 handwritten 8x8 digits (a scarce-data setting, where "
            f"regularizers matter): plain cross-entropy (**ce**) and **{DEMO_METHOD}** "
            f"(one of the seed methods; Train says what each method does), {DEMO.epochs} epochs each, side by side.")


def start_demo() -> None:
    try:
        ids = [ui.runs.manager().start(RunConfig(**{**DEMO.to_dict(), "method": m}), ui.runs.owner())
               for m in ("ce", DEMO_METHOD)]
    except LabError as e:
        st.session_state["_demo_error"] = str(e)
        return
    st.session_state["_demo_ids"] = ids


st.button(f"Run the demo: ce vs {DEMO_METHOD}", type="primary", on_click=start_demo, key="demo",
          icon=":material/play_arrow:")
if "_demo_error" in st.session_state:
    ui.widgets.error(st.session_state.pop("_demo_error"))
if ids := st.session_state.pop("_demo_ids", None):
    st.switch_page(ui.nav.path("compare"), query_params={"runs": ",".join(ids)})

st.subheader("Or")
for col, (key, label) in zip(st.columns(3), (("train", "Train your own run"), ("runs", "Browse saved runs"),
                                              ("compare", "Compare methods"))):
    with col:
        ui.nav.link(key, label)

ui.widgets.explain("""
**The loss.** A network is trained by lowering *total loss = task loss + λ × penalty*. The task loss is the
cross-entropy between the predicted class probabilities and the true labels; the penalty is what a
regularizer adds (for example the squared size of the weights for *weight decay*), and λ says how much it counts.

**The pages.** *Train* starts a run and shows its curves live. *Embeddings*, *Hypersphere*, *Similarity*
and *Information* look inside one run at any epoch. *Compare* puts several runs side by side, and *Runs*
lists everything saved, with downloads.

**What to expect.** With only 300 training images plain cross-entropy overfits: training accuracy reaches 1
while test accuracy stays lower. A good regularizer narrows that gap, or makes the features of different
classes less similar.
""")
