"""Home: what the lab is, in three sentences, and the way in: the first lesson (CE against one
seed method, trained side by side in one click)."""
import streamlit as st

import ui
from lab.lessons import LESSONS

FIRST = next(iter(LESSONS.values()))

ui.page("RegLab")
st.markdown(
    "RegLab trains small neural networks in your browser, with or without a **regularizer**: an extra "
    "term in the loss that shapes what the network learns.  \n"
    "While a run trains you watch its loss and accuracy; afterwards you look inside it, epoch by epoch: "
    "how the classes spread in the learned features, how the neurons point on the hypersphere, "
    "how similar same-class and different-class samples look, and how much information each layer keeps.  \n"
    "Comparing a regularizer with plain cross-entropy on the same data, model and seeds shows what it changed.")

st.subheader("Try it")
st.markdown(f"Each **lesson** shows one paper's claim: one button trains plain cross-entropy (**ce**) and the "
            f"paper's method side by side on the same data, model and seed, then shows what the method changed, "
            f"with the numbers measured on the two runs. The first: **{FIRST.title}**.")
ui.nav.link("lessons", f"Start the first lesson: {FIRST.name}", lesson=FIRST.name)

st.markdown("**Or go your own way:**")
for col, (key, label) in zip(st.columns(4), (("lessons", "All lessons"), ("train", "Train your own run"),
                                              ("runs", "Browse saved runs"), ("compare", "Compare methods"))):
    with col:
        ui.nav.link(key, label)

VIEW_TITLES = [f"*{ui.nav.PAGES[k].title}*" for k in ui.nav.VIEWS]
ui.widgets.explain(f"""
**The loss.** A network is trained by lowering *total loss = task loss + λ × penalty*. The task loss is the
cross-entropy between the predicted class probabilities and the true labels; the penalty is what a
regularizer adds (for example the squared size of the weights for *weight decay*), and λ says how much it counts.

**The pages.** *Lessons* shows each paper's claim on two runs. *Train* starts a run and shows its curves live.
{", ".join(VIEW_TITLES[:-1])} and {VIEW_TITLES[-1]} look inside one run at any epoch.
*Compare* puts several runs side by side and judges each method against CE, and *Runs* lists everything saved,
with downloads and whole runs to carry to another machine.

**What to expect.** With only 300 training images plain cross-entropy overfits: training accuracy reaches 1
while test accuracy stays lower. A regularizer is meant to narrow that gap, or to change the features in the way
its paper describes; each lesson says whether its run did.
""")
