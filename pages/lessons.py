"""More lessons from the source material: composing models, transfer learning, ranking
(RankIQA), exporting and merging weights. Each runs on the session's model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from pages._common import MODEL, ActiveModel, active_model, digit_image, model_banner, model_dataset

st.title("More lessons")
m = active_model()
model_banner(m)
ds = model_dataset(m)
K = "lessons."  # session keys of this page

compose_tab, transfer_tab, rank_tab, export_tab = st.tabs(
    ["Composing models", "Transfer learning", "Learning to rank (RankIQA)", "Export, import, merge"]
)


def image_row(images, captions, scale=3):
    cols = st.columns(len(images))
    for col, im, cap in zip(cols, images, captions, strict=True):
        col.image(digit_image(np.clip(im, 0, 255).astype(np.uint8), scale), caption=cap)


# ---- seed 001: C = B(A(x)) ----------------------------------------------------------------------
with compose_tab:
    st.markdown(
        "Take the trained feature branch as an **encoder A**, add a **decoder B** (Dense, then two "
        "Conv2DTranspose up to 28x28) and connect them into **C = B(A(x))**, two ways: by *calling the "
        "models* (nesting) or by *re-applying their layers one by one* (the seed's way). C creates no new "
        "variables: it is A's and B's. Train C **jointly** (A learns too) or **separately** (A frozen)."
    )
    from siamese_core.compose import (
        build_decoder,
        compose_layerwise,
        compose_nested,
        copy_model,
        shares_variables,
        train_autoencoder,
    )
    from siamese_core.models import embedding_model

    enc = copy_model(embedding_model(m.model), "encoder_A")
    dec = build_decoder(int(enc.output.shape[-1]), "decoder_B")
    nested, layered = compose_nested(enc, dec), compose_layerwise(enc, dec)
    c = st.columns(5)
    c[0].metric("A (encoder)", f"{enc.count_params():,}")
    c[1].metric("B (decoder)", f"{dec.count_params():,}")
    c[2].metric("C nested", f"{nested.count_params():,}")
    c[3].metric("C layer by layer", f"{layered.count_params():,}")
    c[4].metric("C's variables are A's and B's", "yes" if shares_variables(nested, enc, dec) and shares_variables(layered, enc, dec) else "no")
    epochs = st.slider("Epochs", 1, 8, 3, key=K + "ae_epochs")
    if st.button("Train C both ways", key=K + "ae_train", type="primary"):
        x = ds.train.x[:3000]
        runs = {}
        with st.spinner("Training the autoencoder jointly, then with A frozen…"):
            for joint in (True, False):
                a = copy_model(embedding_model(m.model), "encoder_A")
                b = build_decoder(int(a.output.shape[-1]), "decoder_B")
                composed = compose_layerwise(a, b)
                before = [w.copy() for w in a.get_weights()]
                losses = train_autoencoder(composed, a, x, epochs=epochs, joint=joint)
                moved = max(float(np.abs(p - q).max()) for p, q in zip(before, a.get_weights(), strict=True))
                recon = np.asarray(composed.predict(ds.test.x[:8], verbose=0)) * 255
                runs["jointly" if joint else "separately (A frozen)"] = {"loss": losses, "moved": moved,
                                                                      "recon": recon, "decoder": b}
        st.session_state[K + "ae"] = runs
    runs = st.session_state.get(K + "ae")
    if runs:
        fig = go.Figure()
        for name, r in runs.items():
            fig.add_scatter(x=list(range(1, len(r["loss"]) + 1)), y=r["loss"], mode="lines+markers", name=name)
        fig.update_layout(height=300, xaxis_title="epoch", yaxis_title="reconstruction MSE", margin=dict(t=20))
        st.plotly_chart(fig, use_container_width=True, key=K + "ae_chart")
        for name, r in runs.items():
            st.caption(f"Trained {name}: the encoder's largest weight change was {r['moved']:.2e}.")
        st.markdown("Test digits, then their reconstructions:")
        image_row(list(ds.test.x[:8]), ["original"] * 8)
        for name, r in runs.items():
            image_row(list(r["recon"]), [name.split(" ")[0]] * 8)

# ---- seed 002: transfer from a partial checkpoint --------------------------------------------------
with transfer_tab:
    st.markdown(
        "Seed 002 restores **every variable but the logits** from a checkpoint: a classifier made of the "
        "same feature branch plus a new softmax layer takes the Siamese branch's weights by name, and only "
        "its new head starts from scratch. With **k labelled digits per class**, which works best?"
    )
    if m.config is None:
        st.warning("This model carries no configuration (uploaded without Siamese Lab metadata), so its branch cannot be rebuilt.")
    else:
        from siamese_core.transfer import build_classifier, restore_all_but_head

        clf = build_classifier(m.config)
        restored = restore_all_but_head(clf, m.model)
        st.caption(f"Restored {len(restored)} variables by name ({', '.join(restored[:4])}, …); "
                   f"`logits/kernel` and `logits/bias` keep their fresh initialisation.")
        if st.button("Run the k-shot experiment (k = 1, 5, 10)", key=K + "kshot", type="primary"):
            from siamese_core.transfer import k_shot_experiment

            with st.spinner("Training 9 small classifiers…"):
                st.session_state[K + "kshot_rows"] = k_shot_experiment(m.model, m.config, ds, epochs=30)
        rows = st.session_state.get(K + "kshot_rows")
        if rows:
            df = pd.DataFrame(rows)
            st.dataframe(df.style.format({c: "{:.1%}" for c in df.columns if c not in ("k", "labelled digits")}),
                         hide_index=True, use_container_width=True)
            long = df.melt(id_vars=["k", "labelled digits"], var_name="method", value_name="test accuracy")
            fig = px.line(long, x="k", y="test accuracy", color="method", markers=True)
            fig.update_layout(height=340, yaxis_tickformat=".0%", margin=dict(t=20))
            st.plotly_chart(fig, use_container_width=True, key=K + "kshot_chart")
            st.caption("Test accuracy on 1,000 test digits. The Siamese features were learnt from pairs only; "
                       "with one label per class they already beat a network trained from scratch.")

# ---- seed 002: RankIQA --------------------------------------------------------------------------------
with rank_tab:
    st.markdown(
        "RankIQA learns image **quality** without quality labels: it only knows that a more distorted copy "
        "is worse. A batch holds groups of one digit at every distortion level; one scorer scores them all, "
        "and the scores are reshaped to *(groups, levels)*.\n\n"
        "- **Operator matrix (the seed's form)**: column *j* of `scores @ O` sums the differences between "
        "level *j* and every worse level; the hinge `max(0, margin − column)` acts on that *sum*, so a big "
        "lead over one level can hide a wrong order with another.\n"
        "- **Per-pair hinge**: every ordered pair must be `margin` apart on its own: stricter, and what "
        "RankIQA's paper describes."
    )
    from siamese_core.ranking import KINDS, distort

    r1, r2, r3, r4 = st.columns(4)
    kind = r1.selectbox("Distortion", KINDS, key=K + "rank_kind")
    levels = r2.slider("Levels", 3, 8, 6, key=K + "rank_levels")
    loss = r3.selectbox("Loss", ["pairwise", "operator"], key=K + "rank_loss")
    steps = r4.slider("Training steps", 50, 600, 250, step=50, key=K + "rank_steps")
    image_row([distort(ds.test.x[:1], lv, kind)[0] for lv in range(levels)], [f"level {lv}" for lv in range(levels)])
    if st.button("Train the scorer", key=K + "rank_train", type="primary"):
        from siamese_core.ranking import ranking_set, scores_by_level, srocc, train_scorer

        with st.spinner("Training the quality scorer…"):
            groups = ranking_set(ds.train.x[:1000], levels, kind)
            model, hist = train_scorer(groups, loss, steps=steps)
            held = ranking_set(ds.test.x[:300], levels, kind)
            scores = scores_by_level(model, held)
        st.session_state[K + "rank"] = {"hist": hist, "scores": scores, "srocc": srocc(scores), "loss": loss,
                                        "kind": kind}
    res = st.session_state.get(K + "rank")
    if res:
        a, b = st.columns(2)
        a.metric(f"SROCC on 300 held-out digits ({res['loss']} loss, {res['kind']})", f"{res['srocc']:.3f}",
                 help="Spearman rank correlation between the score and the true quality order; 1 is perfect")
        s = res["scores"]
        fig = go.Figure(go.Scatter(x=list(range(s.shape[1])), y=s.mean(0), error_y=dict(array=s.std(0)),
                                   mode="lines+markers", name="mean score ± sd"))
        fig.update_layout(height=300, xaxis_title="distortion level", yaxis_title="learned quality score",
                          margin=dict(t=20))
        a.plotly_chart(fig, use_container_width=True, key=K + "rank_chart")
        fig2 = px.line(y=res["hist"], labels={"x": "step", "y": "ranking loss"})
        fig2.update_layout(height=300, margin=dict(t=20))
        b.plotly_chart(fig2, use_container_width=True, key=K + "rank_loss_chart")

# ---- seeds 001 and 002: export, import, merge ------------------------------------------------------------
with export_tab:
    from siamese_core.persistence import (
        MAX_MODEL_BYTES,
        ModelProblem,
        config_from_meta,
        load_model_bytes,
        model_bytes,
        weight_table,
        weights_npz,
    )

    st.markdown("Download the session's model, its weights, or **every variable by name** (seed 002), "
                "or upload a `.keras` model to use on every page.")
    model_ref = m.model

    def keras_file() -> bytes:
        return model_bytes(model_ref, m.config, threshold=m.threshold, dataset=m.dataset)

    def h5_file() -> bytes:
        import tempfile
        from pathlib import Path

        with tempfile.TemporaryDirectory() as d:
            p = Path(d) / "model.weights.h5"
            model_ref.save_weights(p)
            return p.read_bytes()

    d1, d2, d3 = st.columns(3)
    d1.download_button("Model (.keras)", keras_file, "siamese.keras", "application/zip", key=K + "dl_keras",
                       icon=":material/download:", use_container_width=True)
    d2.download_button("Weights (.weights.h5)", h5_file, "siamese.weights.h5", "application/octet-stream",
                       key=K + "dl_h5", icon=":material/download:", use_container_width=True)
    d3.download_button("Every variable by name (.npz)", lambda: weights_npz(model_ref), "siamese_variables.npz",
                       "application/octet-stream", key=K + "dl_npz", icon=":material/download:", use_container_width=True)
    st.dataframe(pd.DataFrame(weight_table(m.model)), hide_index=True, use_container_width=True, height=240)

    up = st.file_uploader(f"Use a .keras model (at most {MAX_MODEL_BYTES // 2**20} MB; loaded with safe_mode on)",
                          type=["keras"], key=K + "upload")
    if up is not None and st.session_state.get(K + "uploaded_id") != up.file_id:
        try:
            model, meta = load_model_bytes(up.getvalue())
        except ModelProblem as exc:
            st.error(f"{up.name}: {exc} Your current model is unchanged.")
        else:
            st.session_state[K + "uploaded_id"] = up.file_id
            st.session_state[MODEL] = ActiveModel(model, float(meta.get("threshold", 0.5)), f"uploaded: {up.name}",
                                                  config_from_meta(meta), meta.get("dataset"))
            st.rerun()

    st.subheader("Merge two models into one")
    st.markdown("Seed 001 builds one network from two trained ones. Here: the **encoder of the session's "
                "Siamese model** and the **decoder trained on the Composing tab**, each copied under its own "
                "name scope so no variable names clash.")
    runs = st.session_state.get(K + "ae")
    if not runs:
        st.info("Train C on the Composing models tab first: its decoder is the second model.")
    else:
        from siamese_core.compose import merge_models
        from siamese_core.models import embedding_model

        decoder = runs["jointly"]["decoder"]
        merged = merge_models(embedding_model(m.model), decoder)
        st.caption(f"Merged model: {merged.count_params():,} parameters in {len(merged.weights)} variables, "
                   f"all names distinct: {len({v.path for v in merged.weights}) == len(merged.weights)}.")
        out = np.asarray(merged.predict(ds.test.x[:8], verbose=0)) * 255
        image_row(list(ds.test.x[:8]), ["original"] * 8)
        image_row(list(out), ["merged"] * 8)
